package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.warmroute.api.v1.SendMessageResponse;
import dev.warmroute.api.v1.TokenDelta;
import dev.warmroute.api.v1.TurnComplete;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The order of a turn's last moments, deterministically: what must be released before the final event (the
 * session's place in line, the compute slot) is released before the event reaches gRPC, so a client that acts on
 * TurnComplete (its next turn, a stats read) never races it. Over gRPC's own observer interface, recording the calls
 * the turn makes in the order it makes them.
 */
class TurnStreamTest {

    /** gRPC's side of a call, always ready, writing down what the turn did. */
    private static final class RecordingCall extends ServerCallStreamObserver<SendMessageResponse> {
        final List<String> log = new ArrayList<>();

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public void setOnCancelHandler(Runnable onCancelHandler) { }

        @Override
        public void setCompression(String compression) { }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setOnReadyHandler(Runnable onReadyHandler) { }

        @Override
        public void setOnReadyThreshold(int numBytes) { }

        @Override
        public void disableAutoInboundFlowControl() { }

        @Override
        public void request(int count) { }

        @Override
        public void setMessageCompression(boolean enable) { }

        @Override
        public void onNext(SendMessageResponse value) {
            log.add(value.getEventCase().name());
        }

        @Override
        public void onError(Throwable t) {
            log.add("error " + Status.fromThrowable(t).getCode());
        }

        @Override
        public void onCompleted() {
            log.add("completed");
        }
    }

    private static TurnStream stream(RecordingCall call) {
        TurnStream s = new TurnStream(call, null, Duration.ofSeconds(5), new Metadata());
        s.beforeFinalEvent(() -> call.log.add("released"));
        return s;
    }

    private static final SendMessageResponse DELTA = SendMessageResponse.newBuilder()
            .setDelta(TokenDelta.newBuilder().setText("Once")).build();
    private static final SendMessageResponse COMPLETE = SendMessageResponse.newBuilder()
            .setComplete(TurnComplete.newBuilder().setText("Once")).build();

    @Test
    void releasesBeforeTheFinalEventAndOnlyOnce() {
        RecordingCall call = new RecordingCall();
        TurnStream s = stream(call);
        s.send(DELTA);
        s.sendFinal(COMPLETE);
        s.fail(Status.INTERNAL);
        assertEquals(List.of("DELTA", "released", "COMPLETE", "completed"), call.log);
    }

    @Test
    void releasesBeforeAFailureReachesTheClient() {
        RecordingCall call = new RecordingCall();
        TurnStream s = stream(call);
        s.send(DELTA);
        s.fail(Status.ABORTED);
        s.fail(Status.INTERNAL);
        assertEquals(List.of("DELTA", "released", "error ABORTED"), call.log);
    }
}
