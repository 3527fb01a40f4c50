package dev.longlora.operator.reconcile;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.Iterator;
import java.util.Map;

/**
 * Is what the operator wants already there? Every field of the desired object must be present in the actual one
 * with an equal value; fields the API server adds (defaults, status, bookkeeping) are ignored. This is what keeps
 * a second reconcile free of writes.
 */
public final class ResourceMatcher {
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    private ResourceMatcher() {}

    public static boolean matches(HasMetadata desired, HasMetadata actual) {
        if (actual == null) {
            return false;
        }
        JsonNode want = SERIALIZATION.convertValue(desired, JsonNode.class);
        JsonNode have = SERIALIZATION.convertValue(actual, JsonNode.class);
        return contains(strip(want), strip(have));
    }

    private static JsonNode strip(JsonNode node) {
        if (node.isObject()) {
            ((com.fasterxml.jackson.databind.node.ObjectNode) node).remove("status");
        }
        return node;
    }

    static boolean contains(JsonNode want, JsonNode have) {
        if (want == null || want.isNull()) {
            return true;
        }
        if (have == null || have.isNull() || have.isMissingNode()) {
            return want.isContainerNode() && want.isEmpty();
        }
        if (want.isObject()) {
            if (!have.isObject()) {
                return false;
            }
            Iterator<Map.Entry<String, JsonNode>> fields = want.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                if (!contains(field.getValue(), have.get(field.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        if (want.isArray()) {
            // Same length, element by element: a list the operator owns is the operator's whole list.
            if (!have.isArray() || have.size() != want.size()) {
                return false;
            }
            for (int i = 0; i < want.size(); i++) {
                if (!contains(want.get(i), have.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (want.isNumber() && have.isNumber()) {
            return want.decimalValue().compareTo(have.decimalValue()) == 0;
        }
        return want.asText().equals(have.asText()) && want.getNodeType() == have.getNodeType();
    }
}
