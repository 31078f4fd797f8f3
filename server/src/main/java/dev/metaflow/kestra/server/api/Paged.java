package dev.metaflow.kestra.server.api;

import io.kestra.core.repositories.ArrayListTotal;
import io.micronaut.data.model.Pageable;
import io.micronaut.data.model.Sort;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Kestra's paging: {@code page} from 1, {@code size}, {@code sort=field:asc|desc}; answers {@code {results, total}}. */
final class Paged {
    private Paged() {
    }

    static Pageable pageable(Request request, int defaultSize) {
        return pageable(request, defaultSize, Function.identity());
    }

    /** {@code sortMapping}: the repository's map from API sort fields to its columns (null: unknown). */
    static Pageable pageable(Request request, int defaultSize, Function<String, String> sortMapping) {
        int page = request.intQuery("page", 1);
        int size = request.intQuery("size", defaultSize);
        if (page < 1 || size < 1) {
            throw ApiException.illegalArgument("page and size must be at least 1");
        }
        List<Sort.Order> orders = new ArrayList<>();
        for (String sort : request.queryAll("sort")) {
            String[] parts = sort.split(":");
            String column = sortMapping.apply(parts[0]);
            if (column == null) {
                throw ApiException.illegalArgument("Invalid sort field '" + parts[0] + "'");
            }
            boolean descending = parts.length > 1 && parts[1].equalsIgnoreCase("desc");
            orders.add(descending ? Sort.Order.desc(column) : Sort.Order.asc(column));
        }
        return Pageable.from(page, size, orders.isEmpty() ? Sort.unsorted() : Sort.of(orders));
    }

    static Map<String, Object> results(ArrayListTotal<?> found) {
        return Map.of("results", found, "total", found.getTotal());
    }
}
