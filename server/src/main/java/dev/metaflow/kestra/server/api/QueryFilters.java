package dev.metaflow.kestra.server.api;

import io.kestra.core.models.QueryFilter;
import io.kestra.core.models.QueryFilter.Field;
import io.kestra.core.models.QueryFilter.Op;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Search filters as Kestra's web server reads them: {@code filters[field][OP]=value}
 * (labels: {@code filters[labels][OP][key]=value}), or, when none is given, the
 * deprecated plain parameters ({@code namespace}, {@code flowId}, {@code state}, {@code labels=k:v}).
 */
final class QueryFilters {
    private static final Pattern FILTER = Pattern.compile("filters\\[([^\\]]+)\\]\\[([^\\]]+)\\](?:\\[([^\\]]+)\\])?");

    private QueryFilters() {
    }

    /** A leaf filter: the builder is common to 1.3 (3-component record) and 2.0 (5 components: + logical, children). */
    private static QueryFilter filter(Field field, Op op, Object value) {
        return QueryFilter.builder().field(field).operation(op).value(value).build();
    }

    static List<QueryFilter> flows(Request request) {
        List<QueryFilter> filters = fromFiltersParameters(request);
        if (filters.isEmpty()) {
            request.query("q").ifPresent(q -> filters.add(filter(Field.QUERY, Op.EQUALS, q)));
            request.query("namespace").ifPresent(ns -> filters.add(filter(Field.NAMESPACE, Op.PREFIX, ns)));
            addLabels(request, filters);
        }
        return filters;
    }

    static List<QueryFilter> executions(Request request) {
        List<QueryFilter> filters = fromFiltersParameters(request);
        if (filters.isEmpty()) {
            request.query("q").ifPresent(q -> filters.add(filter(Field.QUERY, Op.EQUALS, q)));
            request.query("namespace").ifPresent(ns -> filters.add(filter(Field.NAMESPACE, Op.PREFIX, ns)));
            request.query("flowId").ifPresent(id -> filters.add(filter(Field.FLOW_ID, Op.EQUALS, id)));
            List<String> states = request.queryAll("state");
            if (!states.isEmpty()) {
                filters.add(filter(Field.STATE, Op.IN, states));
            }
            addLabels(request, filters);
        }
        return filters;
    }

    private static void addLabels(Request request, List<QueryFilter> filters) {
        Map<String, String> labels = new LinkedHashMap<>();
        for (String label : request.queryAll("labels")) {
            int colon = label.indexOf(':');
            if (colon <= 0) {
                throw new ApiException(422, "Invalid entity: labels: '" + label + "' is not key:value");
            }
            labels.put(label.substring(0, colon), label.substring(colon + 1));
        }
        if (!labels.isEmpty()) {
            filters.add(filter(Field.LABELS, Op.EQUALS, labels));
        }
    }

    private static List<QueryFilter> fromFiltersParameters(Request request) {
        Map<String, Map<String, Object>> byFieldAndOp = new LinkedHashMap<>();
        request.queryStartingWith("filters[").forEach((name, values) -> {
            Matcher matcher = FILTER.matcher(name);
            if (!matcher.matches()) {
                throw new ApiException(400, "Invalid query filters: " + name);
            }
            String key = matcher.group(1) + "\u0000" + matcher.group(2);
            if (matcher.group(3) != null) {
                @SuppressWarnings("unchecked")
                Map<String, String> nested = (Map<String, String>) byFieldAndOp
                    .computeIfAbsent(key, k -> new LinkedHashMap<>())
                    .computeIfAbsent("value", k -> new LinkedHashMap<String, String>());
                nested.put(matcher.group(3), values.get(0));
            } else {
                byFieldAndOp.computeIfAbsent(key, k -> new LinkedHashMap<>()).put("value", values.get(0));
            }
        });
        List<QueryFilter> filters = new ArrayList<>();
        byFieldAndOp.forEach((key, holder) -> {
            String[] parts = key.split("\u0000");
            try {
                Field field = Field.fromString(parts[0]);
                Op op = Op.valueOf(parts[1]);
                Object value = holder.get("value");
                if ((op == Op.IN || op == Op.NOT_IN) && value instanceof String text) {
                    value = List.of(text.split(","));
                }
                filters.add(filter(field, op, value));
            } catch (IllegalArgumentException e) {
                throw new ApiException(400, "Invalid query filters: " + e.getMessage());
            }
        });
        return filters;
    }
}
