package dev.warmroute.api.v1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.DescriptorProtos.ServiceDescriptorProto;
import com.google.protobuf.DescriptorProtos.SourceCodeInfo;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import io.grpc.MethodDescriptor.MethodType;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The .proto files are the contract every component implements; these tests pin its shape so that an accidental
 * rename, a lost streaming flag or an undocumented field fails the build instead of a client.
 */
class ApiContractTest {

    @Test
    void chatServiceHasEveryMethodOfTheDesignWithItsStreamingShape() {
        Map<String, MethodType> expected = Map.of(
                "CreateSession", MethodType.UNARY,
                "SendMessage", MethodType.SERVER_STREAMING,
                "GetSession", MethodType.UNARY,
                "DeleteSession", MethodType.UNARY,
                "ListSessions", MethodType.UNARY);
        assertEquals(expected, methodTypes(ChatServiceGrpc.getServiceDescriptor()));
    }

    @Test
    void adminAndWorkerServicesExist() {
        assertEquals(Map.of(
                        "GetClusterStatus", MethodType.UNARY,
                        "DrainWorker", MethodType.UNARY,
                        "UndrainWorker", MethodType.UNARY),
                methodTypes(AdminServiceGrpc.getServiceDescriptor()));
        assertEquals(Map.of("GetWorkerStats", MethodType.UNARY),
                methodTypes(WorkerServiceGrpc.getServiceDescriptor()));
    }

    @Test
    void servicesLiveInPackageWarmrouteV1() {
        assertEquals("warmroute.v1.ChatService", ChatServiceGrpc.SERVICE_NAME);
        assertEquals("warmroute.v1.AdminService", AdminServiceGrpc.SERVICE_NAME);
        assertEquals("warmroute.v1.WorkerService", WorkerServiceGrpc.SERVICE_NAME);
    }

    @Test
    void everyEnumStartsWithAnUnspecifiedZeroValue() {
        for (FileDescriptor file : files()) {
            for (EnumDescriptor e : allEnums(file)) {
                var zero = e.findValueByNumber(0);
                assertNotNull(zero, e.getFullName() + " has no zero value");
                assertTrue(zero.getName().endsWith("_UNSPECIFIED"),
                        e.getFullName() + " zero value is " + zero.getName() + ", expected *_UNSPECIFIED");
            }
        }
    }

    @Test
    void everyElementOfTheApiIsDocumented() throws Exception {
        List<String> undocumented = new ArrayList<>();
        for (FileDescriptorProto file : descriptorSetWithComments().getFileList()) {
            Map<String, String> comments = new HashMap<>();
            for (SourceCodeInfo.Location loc : file.getSourceCodeInfo().getLocationList()) {
                String c = loc.getLeadingComments().strip() + loc.getTrailingComments().strip();
                String key = loc.getPathList().stream().map(String::valueOf).collect(Collectors.joining("."));
                comments.put(key, c);
            }
            // Paths per descriptor.proto: 4 = message_type, 2 = field, 5 = enum_type, 2 = value, 6 = service, 2 = method.
            for (int s = 0; s < file.getServiceCount(); s++) {
                ServiceDescriptorProto svc = file.getService(s);
                check(comments, "6." + s, svc.getName(), undocumented);
                for (int m = 0; m < svc.getMethodCount(); m++) {
                    check(comments, "6." + s + ".2." + m, svc.getName() + "." + svc.getMethod(m).getName(),
                            undocumented);
                }
            }
            for (int e = 0; e < file.getEnumTypeCount(); e++) {
                checkEnum(comments, "5." + e, file.getEnumType(e), undocumented);
            }
            for (int m = 0; m < file.getMessageTypeCount(); m++) {
                checkMessageFields(comments, "4." + m, file.getMessageType(m), undocumented);
            }
        }
        assertTrue(undocumented.isEmpty(), "undocumented API elements: " + undocumented);
    }

    @Test
    void aFullyPopulatedTurnRoundTripsThroughBinaryAndJson() throws Exception {
        SendMessageResponse complete = SendMessageResponse.newBuilder()
                .setComplete(TurnComplete.newBuilder()
                        .setRequestId("req-1")
                        .setTurnIndex(2)
                        .setVersion(3)
                        .setText("Once upon a time")
                        .setFinishReason(FinishReason.FINISH_REASON_LENGTH)
                        .setUsage(Usage.newBuilder().setPromptTokens(120).setReusedTokens(100)
                                .setComputedTokens(20).setGeneratedTokens(30))
                        .setCache(CacheOutcome.newBuilder().setStatus(CacheStatus.CACHE_STATUS_PARTIAL)
                                .setReason(CacheReason.CACHE_REASON_PREFIX_MISMATCH).setDetail("diverged at 100"))
                        .setWorkerId("127.0.0.1:7101")
                        .setTimings(Timings.newBuilder().setQueueMs(0.5).setTtftMs(12.25).setTotalMs(80))
                        .setRouting(RoutingInfo.newBuilder().setRouterId("r1").setPreferredWorker("w1")
                                .addAttemptedWorkers("w1").addAttemptedWorkers("w2").setFallback(true)
                                .setFallbackReason("UNAVAILABLE: connection refused").setBindingEpoch(4))
                        .setWindow(WindowInfo.newBuilder().setWindowStart(1).setPruned(true).setPrunedTurns(1))
                        .setSampling(SamplingParams.newBuilder().setTemperature(0.7f).setTopP(0.9f)
                                .setSeed(-1L).setMaxTokens(64)))
                .build();
        assertEquals(complete, SendMessageResponse.parseFrom(complete.toByteArray()));

        String json = JsonFormat.printer().print(complete);
        SendMessageResponse.Builder parsed = SendMessageResponse.newBuilder();
        JsonFormat.parser().merge(json, parsed);
        assertEquals(complete, parsed.build());
        assertTrue(json.contains("\"cacheStatus\"") || json.contains("CACHE_STATUS_PARTIAL"));
    }

    @Test
    void unsetOptionalSamplingFieldsAreDistinguishableFromZero() throws Exception {
        SamplingParams greedy = SamplingParams.newBuilder().setTemperature(0f).build();
        SamplingParams parsed = SamplingParams.parseFrom(greedy.toByteArray());
        assertTrue(parsed.hasTemperature(), "temperature 0 (greedy) must survive as set");
        assertFalse(parsed.hasTopP());
        assertFalse(parsed.hasSeed());
        assertFalse(parsed.hasMaxTokens());
    }

    @Test
    void resumeStateTravelsInsideTheRequestAndADefaultRequestHasNone() throws Exception {
        SendMessageRequest plain = SendMessageRequest.newBuilder().setSessionId("s")
                .setMessage(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent("hi")).build();
        assertFalse(SendMessageRequest.parseFrom(plain.toByteArray()).hasResume());

        SendMessageRequest resumed = plain.toBuilder().setResume(ResumeState.newBuilder()
                .addTokenIds(403).addTokenIds(407).setText("Once upon").setBaseVersion(2).setFailedWorker("w1"))
                .build();
        SendMessageRequest back = SendMessageRequest.parseFrom(resumed.toByteArray());
        assertEquals(List.of(403, 407), back.getResume().getTokenIdsList());
        assertEquals(2, back.getResume().getBaseVersion());
    }

    @Test
    void sessionTimestampsAndMessagesRoundTrip() throws Exception {
        Session s = Session.newBuilder().setSessionId("abc").setOwner("anonymous").setModelId("m")
                .setSettings(SessionSettings.newBuilder().setContextBudgetTokens(512)
                        .setPruningPolicy(PruningPolicy.PRUNING_POLICY_DROP_OLDEST).setLowWatermarkPercent(75))
                .setVersion(2).setTurnCount(2).setWindowStart(1)
                .setCreateTime(Timestamp.newBuilder().setSeconds(1_700_000_000L))
                .addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent("héllo ☃")
                        .setTokenCount(5).setTurnIndex(0).setInWindow(false))
                .build();
        assertEquals(s, Session.parseFrom(s.toByteArray()));
        assertEquals("héllo ☃", Session.parseFrom(s.toByteArray()).getMessages(0).getContent());
    }

    private static void check(Map<String, String> comments, String path, String what, List<String> out) {
        String c = comments.get(path);
        if (c == null || c.isBlank()) {
            out.add(what);
        }
    }

    private static void checkEnum(Map<String, String> comments, String path, EnumDescriptorProto e,
            List<String> out) {
        check(comments, path, e.getName(), out);
        for (int v = 0; v < e.getValueCount(); v++) {
            check(comments, path + ".2." + v, e.getName() + "." + e.getValue(v).getName(), out);
        }
    }

    private static void checkMessageFields(Map<String, String> comments, String path, DescriptorProto msg,
            List<String> out) {
        for (int f = 0; f < msg.getFieldCount(); f++) {
            check(comments, path + ".2." + f, msg.getName() + "." + msg.getField(f).getName(), out);
        }
        for (int n = 0; n < msg.getNestedTypeCount(); n++) {
            checkMessageFields(comments, path + ".3." + n, msg.getNestedType(n), out);
        }
        for (int e = 0; e < msg.getEnumTypeCount(); e++) {
            checkEnum(comments, path + ".4." + e, msg.getEnumType(e), out);
        }
    }

    private static FileDescriptorSet descriptorSetWithComments() throws Exception {
        try (InputStream in = ApiContractTest.class.getResourceAsStream("/warmroute/v1/warmroute-v1.desc")) {
            assertNotNull(in, "descriptor set missing: the proto build must write warmroute-v1.desc");
            FileDescriptorSet set = FileDescriptorSet.parseFrom(in);
            assertEquals(2, set.getFileCount(), "expected chat.proto and admin.proto");
            return set;
        }
    }

    private static List<FileDescriptor> files() {
        return List.of(ChatProto.getDescriptor(), AdminProto.getDescriptor());
    }

    private static List<EnumDescriptor> allEnums(FileDescriptor file) {
        List<EnumDescriptor> all = new ArrayList<>(file.getEnumTypes());
        file.getMessageTypes().forEach(m -> all.addAll(m.getEnumTypes()));
        return all;
    }

    private static Map<String, MethodType> methodTypes(io.grpc.ServiceDescriptor svc) {
        return svc.getMethods().stream().collect(Collectors.toMap(
                io.grpc.MethodDescriptor::getBareMethodName, io.grpc.MethodDescriptor::getType));
    }
}
