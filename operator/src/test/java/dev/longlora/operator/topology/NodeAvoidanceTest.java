package dev.longlora.operator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.longlora.operator.api.AvoidedNode;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import java.util.List;
import org.junit.jupiter.api.Test;

class NodeAvoidanceTest {
    static final NodeSelectorRequirement GPU_POOL =
            new NodeSelectorRequirement("pool", "In", List.of("h100-a", "h100-b"));

    static Affinity usersAffinity() {
        return new AffinityBuilder()
                .withNewNodeAffinity()
                .withNewRequiredDuringSchedulingIgnoredDuringExecution()
                .addNewNodeSelectorTerm()
                .withMatchExpressions(GPU_POOL)
                .endNodeSelectorTerm()
                .addNewNodeSelectorTerm()
                .withMatchExpressions(new NodeSelectorRequirement("spare", "Exists", null))
                .endNodeSelectorTerm()
                .endRequiredDuringSchedulingIgnoredDuringExecution()
                .endNodeAffinity()
                .build();
    }

    @Test
    void nothingToAvoidLeavesTheUsersAffinityAlone() {
        Affinity mine = usersAffinity();
        assertSame(mine, NodeAvoidance.merge(mine, List.of()));
        assertNull(NodeAvoidance.merge(null, null));
    }

    @Test
    void everyRequiredTermExcludesAnUnfitNodeAndTheUsersTermsStay() {
        Affinity mine = usersAffinity();
        Affinity merged = NodeAvoidance.merge(
                mine,
                List.of(
                        new AvoidedNode("gpu-7", "NodeUnfit", true, "2026-12-02T15:00:00Z"),
                        new AvoidedNode("gpu-3", "UnexpectedError", false, "2026-12-02T15:00:00Z")));
        var terms = merged.getNodeAffinity()
                .getRequiredDuringSchedulingIgnoredDuringExecution()
                .getNodeSelectorTerms();
        assertEquals(2, terms.size(), "terms are ORed: each one must exclude the node");
        for (var term : terms) {
            assertEquals(
                    List.of(new NodeSelectorRequirement("metadata.name", "NotIn", List.of("gpu-7"))),
                    term.getMatchFields());
        }
        assertEquals(List.of(GPU_POOL), terms.get(0).getMatchExpressions());
        var preferred = merged.getNodeAffinity().getPreferredDuringSchedulingIgnoredDuringExecution();
        assertEquals(
                List.of("gpu-3"),
                preferred.get(0).getPreference().getMatchFields().get(0).getValues());
        assertEquals(usersAffinity(), mine, "the spec's own affinity object is not changed (it is the user's)");
    }
}
