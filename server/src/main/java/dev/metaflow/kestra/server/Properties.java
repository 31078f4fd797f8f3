package dev.metaflow.kestra.server;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A configuration tree flattened to the dotted keys Micronaut reads. Lists stay
 * whole, as a YAML loader would give them (Kestra converts {@code kestra.plugins.defaults}
 * items from maps).
 */
final class Properties {
    private Properties() {
    }

    static Map<String, Object> flatten(Map<String, Object> tree) {
        Map<String, Object> flat = new LinkedHashMap<>();
        add(flat, "", tree);
        return flat;
    }

    private static void add(Map<String, Object> flat, String key, Object value) {
        if (value instanceof Map<?, ?> map) {
            map.forEach((name, child) -> add(flat, key.isEmpty() ? String.valueOf(name) : key + "." + name, child));
        } else {
            flat.put(key, value);
        }
    }
}
