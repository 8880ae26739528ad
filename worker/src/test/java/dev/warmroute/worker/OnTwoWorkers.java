package dev.warmroute.worker;

import dev.warmroute.testing.ChatClient;
import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Base of the test classes that move sessions between two workers: {@link TwoWorkers} started before the class's
 * first test and stopped after its last (test classes run one at a time, so the fields are the running class's).
 *
 * <p>The workers are shared by the class's tests, which run in no set order: each test uses session ids of its own
 * and asserts only on its own sessions or on counters that only grow. A test that needs the workers' whole state
 * (e.g. every cache on a worker) starts a {@link TwoWorkers} of its own.
 */
abstract class OnTwoWorkers {

    static TwoWorkers workers;
    static WorkerServer a;
    static WorkerServer b;
    static ChatClient toA;
    static ChatClient toB;

    // Named apart from the subclasses' own @BeforeAll/@AfterAll methods: a static method of the same name would
    // hide these, and JUnit would not run them.
    @BeforeAll
    static void startTwoWorkers() throws IOException {
        workers = TwoWorkers.start();
        a = workers.a();
        b = workers.b();
        toA = workers.toA();
        toB = workers.toB();
    }

    @AfterAll
    static void stopTwoWorkers() {
        if (workers != null) {
            workers.close();
        }
        workers = null;
    }
}
