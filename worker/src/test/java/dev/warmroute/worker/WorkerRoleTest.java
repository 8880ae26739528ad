package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cluster.ServerMain;
import org.junit.jupiter.api.Test;

/** The worker JVMs run {@code ServerMain worker}: the role is found on the classpath by its name. */
class WorkerRoleTest {

    @Test
    void serverMainFindsTheWorkerRoleByNameAndNamesTheKnownRolesForAnUnknownOne() {
        assertInstanceOf(WorkerRole.class, ServerMain.role("worker"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ServerMain.role("wroker"));
        assertTrue(e.getMessage().startsWith("role: 'wroker' is not on the classpath (known: [worker"),
                e.getMessage());
    }
}
