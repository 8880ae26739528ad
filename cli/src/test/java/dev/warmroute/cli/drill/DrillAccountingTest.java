package dev.warmroute.cli.drill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;

/** The drill's zeros only mean something if a real loss or duplicate is detected: these tests plant them. */
class DrillAccountingTest {

    static TurnRecord ok(String session, int turn, double startMs, double ttft, String worker, String cache) {
        return new TurnRecord(session, turn, session + "-r" + turn, session + " question " + turn, startMs, ttft,
                ttft + 50, worker, cache, false, false, "answer " + session + turn, "");
    }

    static TurnRecord failed(String session, int turn, double startMs) {
        return new TurnRecord(session, turn, session + "-r" + turn, session + " question " + turn, startMs, -1, 10,
                "", "", false, false, "", "UNAVAILABLE: no worker is serving");
    }

    /** The history the cluster would hold if it stored exactly what the client was told. */
    static Map<String, List<HistoryAudit.StoredTurn>> faithfulHistory(List<TurnRecord> turns) {
        Map<String, List<HistoryAudit.StoredTurn>> h = new HashMap<>();
        for (TurnRecord t : turns) {
            if (t.ok()) {
                h.computeIfAbsent(t.sessionId(), k -> new ArrayList<>())
                        .add(new HistoryAudit.StoredTurn(t.userText(), t.answer()));
            }
        }
        return h;
    }

    @Test
    void aFaithfulHistoryHasNoFindings() {
        List<TurnRecord> turns = List.of(ok("a", 0, 0, 10, "w1", "cold"), ok("a", 1, 100, 5, "w1", "warm"));
        HistoryAudit.Result r = HistoryAudit.audit(turns, faithfulHistory(turns));
        assertEquals(0, r.lost());
        assertEquals(0, r.duplicated());
        assertEquals(0, r.answerMismatches());
        assertTrue(r.findings().isEmpty());
    }

    @Test
    void detectsADeliberatelyLostTurn() {
        List<TurnRecord> turns = List.of(ok("a", 0, 0, 10, "w1", "cold"), ok("a", 1, 100, 5, "w1", "warm"),
                ok("b", 0, 0, 10, "w2", "cold"));
        Map<String, List<HistoryAudit.StoredTurn>> history = faithfulHistory(turns);
        history.get("a").remove(1); // the cluster "forgot" an acknowledged turn
        HistoryAudit.Result r = HistoryAudit.audit(turns, history);
        assertEquals(1, r.lost());
        assertEquals("a question 1", r.findings().get(0).userText());
        assertEquals("lost", r.findings().get(0).kind());
    }

    @Test
    void detectsADeliberatelyDuplicatedTurn() {
        List<TurnRecord> turns = List.of(ok("a", 0, 0, 10, "w1", "cold"), ok("a", 1, 100, 5, "w1", "warm"));
        Map<String, List<HistoryAudit.StoredTurn>> history = faithfulHistory(turns);
        history.get("a").add(history.get("a").get(1)); // an entry processor applied twice without idempotency
        HistoryAudit.Result r = HistoryAudit.audit(turns, history);
        assertEquals(1, r.duplicated());
        assertEquals(0, r.lost());
    }

    @Test
    void detectsAnAnswerThatDiffersFromWhatTheClientReceived() {
        List<TurnRecord> turns = List.of(ok("a", 0, 0, 10, "w1", "cold"));
        Map<String, List<HistoryAudit.StoredTurn>> history = new HashMap<>();
        history.put("a", new ArrayList<>(List.of(new HistoryAudit.StoredTurn("a question 0", "answer a0 twice"))));
        assertEquals(1, HistoryAudit.audit(turns, history).answerMismatches());
    }

    @Test
    void aFailedTurnThatWasStoredIsReportedButNotLost() {
        List<TurnRecord> turns = List.of(failed("a", 0, 0));
        Map<String, List<HistoryAudit.StoredTurn>> history = new HashMap<>();
        history.put("a", new ArrayList<>(List.of(new HistoryAudit.StoredTurn("a question 0", "x"))));
        HistoryAudit.Result r = HistoryAudit.audit(turns, history);
        assertEquals(0, r.lost());
        assertEquals(1, r.unacknowledgedCommits());
    }

    /** Two sessions: "a" lives on the killed worker (one cold turn after the fault), "b" stays warm throughout. */
    @Test
    void windowsRecoveryAndMovesFollowTheFault() {
        List<TurnRecord> turns = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            double t = i * 1000;
            boolean afterFault = t >= 3000;
            String aWorker = afterFault ? "w2" : "w1";
            String aCache = i == 0 ? "cold" : (i == 3 ? "cold" : "warm");
            turns.add(ok("a", i, t, i == 3 ? 400 : 20, aWorker, aCache));
            turns.add(ok("b", i, t + 10, i == 0 ? 300 : 20, "w3", i == 0 ? "cold" : "warm"));
        }
        turns.add(failed("c", 0, 3500));
        DrillReport r = DrillReport.compute(turns, 3000, HistoryAudit.audit(turns, faithfulHistory(turns)));
        assertEquals(1, r.clientErrors());
        assertEquals(6, r.before().turns());
        assertEquals(400, r.during().ttftP99Ms());
        assertEquals(1, r.sessionsMoved());
        assertEquals(1, r.turnsToRecover(), "a's first turn after the fault is cold, its second warm");
        assertEquals(1.0, r.recoverySeconds(), 1e-9, "second 3 has a cold turn; from second 4 on all warm");
        assertEquals(Map.of("w1", 3, "w2", 3, "w3", 6), r.turnsPerWorker());
    }

    @Test
    void percentileIsNearestRank() {
        List<Double> v = List.of(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0);
        assertEquals(5.0, DrillReport.percentile(v, 0.5));
        assertEquals(10.0, DrillReport.percentile(v, 0.99));
        assertTrue(Double.isNaN(DrillReport.percentile(List.of(), 0.5)));
    }

    @Test
    void theChartIsWellFormedSvgWithTheFaultMarked() throws Exception {
        List<TurnRecord> turns = List.of(ok("a", 0, 0, 10, "w1", "cold"), ok("a", 1, 1500, 5, "w2", "warm"),
                failed("b", 0, 1600));
        String svg = SvgChart.render("drill kill <w1>", turns, DrillReport.timeline(turns), 1000, "kill -9 w1");
        var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertEquals("svg", doc.getDocumentElement().getNodeName());
        assertTrue(svg.contains("kill -9 w1"));
        assertTrue(svg.contains("drill kill &lt;w1&gt;"));
    }

    @Test
    void joinSeparatesMovesToTheNewWorkerFromLoadMovesBetweenOldOnes() {
        List<TurnRecord> turns = new ArrayList<>();
        String[] home = {"w1", "w2", "w3", "w1", "w2", "w3", "w1", "w2"};
        for (int s = 0; s < home.length; s++) {
            turns.add(ok("s" + s, 0, 10 * s, 10, home[s], "cold"));
        }
        // The join at 1000 ms: s0 and s1 move to the new worker w4, s2 moves w3 -> w1 (over the load bound),
        // s3 stays where it was; s0 later comes back to w1, which is not a second move.
        turns.add(ok("s0", 1, 1100, 10, "w4", "cold"));
        turns.add(ok("s1", 1, 1110, 10, "w4", "cold"));
        turns.add(ok("s2", 1, 1120, 10, "w1", "cold"));
        turns.add(ok("s3", 1, 1130, 5, "w1", "warm"));
        turns.add(ok("s0", 2, 1200, 10, "w1", "cold"));
        assertEquals(Map.of("w4", 2, "w1", 1), DrillReport.sessionsMovedTo(turns, 1000));
        assertEquals(java.util.Set.of("w4"), DrillReport.workersNewAfter(turns, 1000));
        assertEquals(3, DrillReport.sessionsMoved(turns, 1000));
    }

    @Test
    void aTurnInFlightAtTheKillThatFinishedElsewhereIsTheSessionsMove() {
        List<TurnRecord> turns = new ArrayList<>();
        turns.add(ok("a", 0, 0, 10, "w1", "cold"));
        turns.add(ok("b", 0, 5, 10, "w2", "cold"));
        // a's second turn starts at 900 ms, w1 dies at 1000 ms, the router retries it on w3: it ends at 1200 ms.
        turns.add(new TurnRecord("a", 1, "a-r1", "a question 1", 900, 250, 300, "w3", "cold", true, false,
                "answer a1", ""));
        turns.add(ok("a", 2, 1500, 5, "w3", "warm"));
        // b's turn ended before the fault on the worker it was always on: no move.
        turns.add(ok("b", 1, 800, 5, "w2", "warm"));
        assertEquals(1, DrillReport.sessionsMoved(turns, 1000));
        assertEquals(Map.of("w3", 1), DrillReport.sessionsMovedTo(turns, 1000));
    }

    @Test
    void returningHitRateLeavesOutFirstTurnsWhichCannotBeWarm() {
        List<TurnRecord> turns = List.of(ok("a", 0, 0, 10, "w1", "cold"), ok("a", 1, 100, 5, "w1", "warm"),
                ok("b", 0, 0, 10, "w2", "cold"), ok("b", 1, 100, 30, "w3", "cold"));
        DrillReport.Window w = DrillReport.window("before", turns);
        assertEquals(0.25, w.warmHitRate(), 1e-9);
        assertEquals(0.5, w.returningHitRate(), 1e-9);
    }
}
