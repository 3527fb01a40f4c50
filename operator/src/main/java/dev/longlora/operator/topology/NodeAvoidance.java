package dev.longlora.operator.topology;

import dev.longlora.operator.api.AvoidedNode;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.NodeAffinity;
import io.fabric8.kubernetes.api.model.NodeSelector;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.PreferredSchedulingTerm;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps a new gang off the nodes its job's workers failed on (status.avoidedNodes), by node name, merged into the
 * user's own affinity. A node whose GPU stack the trainer found unusable (NodeUnfit) is excluded outright: every
 * required term gets a {@code metadata.name NotIn} field selector (terms are ORed, so each needs it). Other failures
 * only lower the node's score (a preferred term of the highest weight): on a cluster with one suitable node the job
 * still runs there rather than waiting an hour for the avoidance to expire.
 */
final class NodeAvoidance {
    static final String NODE_NAME_FIELD = "metadata.name";
    static final int PREFERENCE_WEIGHT = 100;

    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    private NodeAvoidance() {}

    /** {@code affinity} (may be null, never changed) plus the avoidance of {@code avoided}; null when both are empty. */
    static Affinity merge(Affinity affinity, List<AvoidedNode> avoided) {
        if (avoided == null || avoided.isEmpty()) return affinity;
        List<String> required = avoided.stream()
                .filter(AvoidedNode::required)
                .map(AvoidedNode::node)
                .toList();
        List<String> preferred = avoided.stream()
                .filter(a -> !a.required())
                .map(AvoidedNode::node)
                .toList();
        Affinity merged = affinity == null ? new Affinity() : copy(affinity);
        NodeAffinity node = merged.getNodeAffinity() == null ? new NodeAffinity() : merged.getNodeAffinity();
        if (!required.isEmpty()) {
            NodeSelector selector = node.getRequiredDuringSchedulingIgnoredDuringExecution();
            List<NodeSelectorTerm> terms = selector == null || selector.getNodeSelectorTerms() == null
                    ? new ArrayList<>()
                    : new ArrayList<>(selector.getNodeSelectorTerms());
            if (terms.isEmpty()) terms.add(new NodeSelectorTerm());
            for (NodeSelectorTerm term : terms) {
                List<NodeSelectorRequirement> fields =
                        term.getMatchFields() == null ? new ArrayList<>() : new ArrayList<>(term.getMatchFields());
                fields.add(notIn(required));
                term.setMatchFields(fields);
            }
            node.setRequiredDuringSchedulingIgnoredDuringExecution(new NodeSelector(terms));
        }
        if (!preferred.isEmpty()) {
            List<PreferredSchedulingTerm> terms = node.getPreferredDuringSchedulingIgnoredDuringExecution() == null
                    ? new ArrayList<>()
                    : new ArrayList<>(node.getPreferredDuringSchedulingIgnoredDuringExecution());
            NodeSelectorTerm avoid = new NodeSelectorTerm();
            avoid.setMatchFields(List.of(notIn(preferred)));
            terms.add(new PreferredSchedulingTerm(avoid, PREFERENCE_WEIGHT));
            node.setPreferredDuringSchedulingIgnoredDuringExecution(terms);
        }
        merged.setNodeAffinity(node);
        return merged;
    }

    private static NodeSelectorRequirement notIn(List<String> nodes) {
        return new NodeSelectorRequirement(NODE_NAME_FIELD, "NotIn", List.copyOf(nodes));
    }

    /** A deep copy: the spec's affinity object is the user's and must stay as they wrote it. */
    private static Affinity copy(Affinity a) {
        return SERIALIZATION.convertValue(SERIALIZATION.convertValue(a, Object.class), Affinity.class);
    }
}
