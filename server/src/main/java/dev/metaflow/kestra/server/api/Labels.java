package dev.metaflow.kestra.server.api;

import com.fasterxml.jackson.core.type.TypeReference;
import io.kestra.core.models.Label;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Labels from a request, with Kestra's rule that callers set no {@code system.} label but two. */
final class Labels {
    private static final Set<String> ALLOWED_SYSTEM_LABELS = Set.of(Label.CORRELATION_ID, Label.FROM);

    private Labels() {
    }

    /** {@code labels=key:value} query parameters, plus {@code system.from=api} as Kestra adds it. */
    static List<Label> parse(List<String> values) {
        List<Label> labels = new ArrayList<>();
        for (String value : values) {
            int colon = value.indexOf(':');
            if (colon <= 0) {
                throw new ApiException(422, "Invalid entity: labels: '" + value + "' is not key:value");
            }
            labels.add(checked(new Label(value.substring(0, colon), value.substring(colon + 1))));
        }
        if (labels.stream().noneMatch(label -> label.key().equals(Label.FROM))) {
            labels.add(new Label(Label.FROM, "api"));
        }
        return labels;
    }

    /** A JSON body {@code [{"key": ..., "value": ...}]}. */
    static List<Label> fromJson(byte[] body) {
        List<Label> labels;
        try {
            labels = Json.mapper().readValue(body, new TypeReference<List<Label>>() {
            });
        } catch (IOException e) {
            throw new ApiException(422, "Invalid json");
        }
        labels.forEach(Labels::checked);
        return labels;
    }

    private static Label checked(Label label) {
        if (label.key().startsWith(Label.SYSTEM_PREFIX) && !ALLOWED_SYSTEM_LABELS.contains(label.key())) {
            throw new ApiException(422, "Invalid entity: labels: System labels can only be set by Kestra itself, offending label: "
                + label.key() + "=" + label.value());
        }
        return label;
    }
}
