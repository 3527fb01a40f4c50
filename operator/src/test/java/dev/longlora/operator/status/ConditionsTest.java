package dev.longlora.operator.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConditionsTest {
    @Test
    void aFalseConditionIsNotAddedBeforeItWasEverTrue() {
        assertEquals(List.of(), Conditions.set(List.of(), "Running", false, "WaitingForWorkers", "m", 1, "t0"));
    }

    @Test
    void transitionTimeMovesOnlyWhenTheStatusFlips() {
        List<Condition> running = Conditions.set(List.of(), "Running", true, "AllWorkersRunning", "up", 1, "t0");
        List<Condition> again = Conditions.set(running, "Running", true, "AllWorkersRunning", "up", 1, "t1");
        assertEquals(running, again, "an unchanged condition is left alone");
        List<Condition> newMessage = Conditions.set(running, "Running", true, "AllWorkersRunning", "still up", 2, "t2");
        assertEquals("t0", newMessage.getFirst().getLastTransitionTime());
        List<Condition> stopped = Conditions.set(running, "Running", false, "GangRestarting", "down", 2, "t3");
        assertEquals("t3", stopped.getFirst().getLastTransitionTime());
        assertEquals("False", stopped.getFirst().getStatus());
    }

    @Test
    void conditionsKeepAFixedOrder() {
        List<Condition> c = Conditions.set(List.of(), "Failed", true, "X", "m", 1, "t");
        c = Conditions.set(c, "Created", true, "Y", "m", 1, "t");
        assertEquals(
                List.of("Created", "Failed"), c.stream().map(Condition::getType).toList());
        assertTrue(Conditions.isTrue(c, "Failed"));
    }

    @Test
    void unchangedListIsReturnedAsEqual() {
        List<Condition> c = Conditions.set(List.of(), "Created", true, "Y", "m", 1, "t");
        assertSame(
                c.getFirst(),
                Conditions.set(c, "Created", true, "Y", "m", 1, "t9").getFirst());
    }
}
