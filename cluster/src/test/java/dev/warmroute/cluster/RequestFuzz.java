package dev.warmroute.cluster;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import dev.warmroute.api.v1.ChatMessage;
import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.CreateSessionRequest;
import dev.warmroute.api.v1.DeleteSessionRequest;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.ListSessionsRequest;
import dev.warmroute.api.v1.ResumeState;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.SessionSettings;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/**
 * What the fuzz properties share ({@link RequestFuzzTest} for CI, {@link RequestFuzzSoakTest} for a long run): the
 * generators of hostile input and the one oracle. The oracle is the API's promise for a request that reaches a
 * server: decoding ({@link LenientRequestMarshaller}, the servers' request marshaller) and then validation
 * ({@link RequestChecks}) either accept a request whose every checked field is within its documented limit, or end in
 * a {@link StatusRuntimeException} INVALID_ARGUMENT whose description starts with the field's name, on one line and
 * short. Any other exception, code or description is a failure.
 */
final class RequestFuzz {

    private RequestFuzz() {}

    /** "field: problem", the field a proto path ("settings.sampling.top_p", "resume.token_ids[3]") or "request". */
    static final Pattern NAMES_A_FIELD = Pattern.compile("[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*(\\[\\d+])?: \\S.*");
    /** A description longer than this is not a message a person reads (it would quote too much of the input). */
    static final int MAX_DESCRIPTION = 400;

    /** The five request types, as the servers decode them: the lenient marshaller of each ChatService method. */
    enum Method {
        SEND(ChatServiceGrpc.getSendMessageMethod()),
        CREATE(ChatServiceGrpc.getCreateSessionMethod()),
        GET(ChatServiceGrpc.getGetSessionMethod()),
        DELETE(ChatServiceGrpc.getDeleteSessionMethod()),
        LIST(ChatServiceGrpc.getListSessionsMethod());

        final String fullName;

        Method(MethodDescriptor<?, ?> m) {
            this.fullName = m.getFullMethodName();
        }
    }

    private static final ServerServiceDefinition WRAPPED = LenientRequestMarshaller.wrap(
            new ChatServiceGrpc.ChatServiceImplBase() { }.bindService());

    /** The request marshaller a worker or router parses {@code method}'s requests with. */
    static MethodDescriptor.Marshaller<?> marshaller(Method method) {
        return WRAPPED.getMethod(method.fullName).getMethodDescriptor().getRequestMarshaller();
    }

    // ---- the oracle ----

    /**
     * Decodes {@code bytes} as {@code method}'s request, then validates it as a client's and as a router's call;
     * returns what happened ("decoder: FIELD", "refused: FIELD", "accepted") for the run's statistics.
     */
    static String decodeAndCheck(Method method, byte[] bytes) {
        Object parsed;
        try {
            parsed = marshaller(method).parse(new ByteArrayInputStream(bytes));
        } catch (RuntimeException e) {
            throw new AssertionError("the marshaller threw " + e + " instead of returning a rejected request", e);
        }
        if (parsed == null) {
            throw new AssertionError("the marshaller returned null");
        }
        String rejection = LenientRequestMarshaller.rejection(parsed);
        if (rejection != null) {
            requireNamesAField(rejection);
            return "decoder: " + field(rejection);
        }
        return check(method, (Message) parsed);
    }

    /**
     * Validates a decoded (or built) request: accepted within the limits, or INVALID_ARGUMENT naming a field. Returns
     * the client's outcome ("refused: FIELD" or "accepted").
     */
    static String check(Method method, Message request) {
        String outcome = validated(() -> validate(method, request, false), request, false, method);
        if (method == Method.SEND) {
            validated(() -> validate(method, request, true), request, true, method);
        }
        return outcome;
    }

    private static String validated(Runnable validation, Message request, boolean fromRouter, Method method) {
        try {
            validation.run();
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.INVALID_ARGUMENT) {
                throw new AssertionError("refused with " + e.getStatus().getCode() + " instead of INVALID_ARGUMENT: "
                        + e.getStatus(), e);
            }
            requireNamesAField(e.getStatus().getDescription());
            return "refused: " + field(e.getStatus().getDescription());
        } catch (RuntimeException | Error e) {
            throw new AssertionError("validation threw " + e + " (only StatusRuntimeException INVALID_ARGUMENT is "
                    + "allowed)", e);
        }
        requireWithinLimits(method, request, fromRouter);
        return "accepted";
    }

    private static String field(String description) {
        return description.substring(0, description.indexOf(':')).replaceAll("\\[\\d+]", "[i]");
    }

    private static void validate(Method method, Message request, boolean fromRouter) {
        switch (method) {
            case SEND -> RequestChecks.sendMessage((SendMessageRequest) request, fromRouter);
            case CREATE -> RequestChecks.createSession((CreateSessionRequest) request);
            case GET -> RequestChecks.sessionId(((GetSessionRequest) request).getSessionId());
            case DELETE -> RequestChecks.sessionId(((DeleteSessionRequest) request).getSessionId());
            case LIST -> RequestChecks.pageSize(((ListSessionsRequest) request).getPageSize());
        }
    }

    static void requireNamesAField(String description) {
        if (description == null || !NAMES_A_FIELD.matcher(description).matches()) {
            throw new AssertionError("the description does not start with a field's name: "
                    + (description == null ? null : LogSafe.escape(description, 200)));
        }
        if (description.length() > MAX_DESCRIPTION) {
            throw new AssertionError("a description of " + description.length() + " characters: "
                    + LogSafe.escape(description, 200));
        }
        for (int i = 0; i < description.length(); i++) {
            char c = description.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw new AssertionError("a control character (" + (int) c + ") in the description: "
                        + LogSafe.escape(description, 200));
            }
        }
    }

    /** An accepted request: every field RequestChecks is responsible for is within chat.proto's limits. */
    private static void requireWithinLimits(Method method, Message request, boolean fromRouter) {
        switch (method) {
            case SEND -> {
                SendMessageRequest r = (SendMessageRequest) request;
                requireId("session_id", r.getSessionId(), false);
                requireId("request_id", r.getRequestId(), true);
                require(fromRouter || !r.hasResume(), "resume accepted from a client");
                require(r.hasMessage(), "no message accepted");
                ByteString content = r.getMessage().getContentBytes();
                require(!content.isEmpty() && content.size() <= ApiLimits.MAX_CONTENT_BYTES && content.isValidUtf8(),
                        "message.content of " + content.size() + " bytes accepted");
                int role = r.getMessage().getRoleValue();
                require(role == 0 || role == 2, "message.role " + role + " accepted");
                requireSampling(r.getSampling());
            }
            case CREATE -> {
                CreateSessionRequest r = (CreateSessionRequest) request;
                requireId("session_id", r.getSessionId(), true);
                ByteString system = r.getSystemPromptBytes();
                require(system.size() <= ApiLimits.MAX_CONTENT_BYTES && system.isValidUtf8(),
                        "system_prompt of " + system.size() + " bytes accepted");
                SessionSettings s = r.getSettings();
                int policy = s.getPruningPolicyValue();
                require(policy >= 0 && policy <= 3, "pruning_policy " + policy + " accepted");
                int w = s.getLowWatermarkPercent();
                require(w == 0 || (w >= ApiLimits.MIN_LOW_WATERMARK && w <= ApiLimits.MAX_LOW_WATERMARK),
                        "low_watermark_percent " + w + " accepted");
                requireSampling(s.getSampling());
            }
            case GET -> requireId("session_id", ((GetSessionRequest) request).getSessionId(), false);
            case DELETE -> requireId("session_id", ((DeleteSessionRequest) request).getSessionId(), false);
            case LIST -> {
                int size = ((ListSessionsRequest) request).getPageSize();
                require(size >= 0 && size <= ApiLimits.MAX_PAGE_SIZE, "page_size " + size + " accepted");
            }
        }
    }

    private static void requireSampling(SamplingParams p) {
        if (p.hasTemperature()) {
            float t = p.getTemperature();
            require(t >= 0 && t <= ApiLimits.MAX_TEMPERATURE, "temperature " + t + " accepted");
        }
        if (p.hasTopP()) {
            float v = p.getTopP();
            require(v > 0 && v <= 1, "top_p " + v + " accepted");
        }
        if (p.hasMaxTokens()) {
            int m = p.getMaxTokens();
            require(m >= ApiLimits.MIN_MAX_TOKENS && m <= ApiLimits.MAX_MAX_TOKENS, "max_tokens " + m + " accepted");
        }
    }

    private static void requireId(String field, String value, boolean optional) {
        require((optional && value.isEmpty()) || ApiLimits.ID.matcher(value).matches(),
                field + " '" + LogSafe.escape(value, 60) + "' accepted");
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    // ---- generators ----

    /** Any of the five methods. */
    static Arbitrary<Method> methods() {
        return Arbitraries.of(Method.class);
    }

    private static final String ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-";

    /** Strings of any code points (lone surrogates, controls, astral planes), ids' alphabet now and then. */
    static Arbitrary<String> strings() {
        return Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.strings().all().ofMaxLength(200)),
                Tuple.of(2, Arbitraries.strings().withChars(ID_CHARS + " /\n").ofMinLength(0).ofMaxLength(140)),
                Tuple.of(2, Arbitraries.of("", " ", "a b", "../etc/passwd", "line\nbreak", "tab\t", "\u0000", "é",
                        "会话", "\uD83D\uDE00", "\uD800", "a".repeat(128), "a".repeat(129), "\u202Eevil",
                        "%2e%2e%2f")),
                Tuple.of(1, Arbitraries.strings().withCharRange('\u0000', '\uFFFF').ofMinLength(100)
                        .ofMaxLength(40_000)));
    }

    /** Ids: mostly valid (so that the checks after the id are reached), else too long or hostile. */
    static Arbitrary<String> ids() {
        return Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.strings().withChars(ID_CHARS).ofMinLength(1).ofMaxLength(128)),
                Tuple.of(1, Arbitraries.strings().withChars(ID_CHARS).ofMinLength(129).ofMaxLength(200)),
                Tuple.of(3, strings()));
    }

    /** Optional ids (request_id, CreateSession's session_id): empty, valid or hostile. */
    static Arbitrary<String> optionalIds() {
        return Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just("")), Tuple.of(7, ids()));
    }

    /** Message texts: ordinary text, empty, at the 32768-byte limit (in 1- to 4-byte characters), or hostile. */
    static Arbitrary<String> texts() {
        return Arbitraries.frequencyOf(
                Tuple.of(5, Arbitraries.strings().all().ofMinLength(1).ofMaxLength(300)),
                Tuple.of(1, Arbitraries.just("")),
                Tuple.of(1, Arbitraries.integers().between(32_760, 32_776).map("x"::repeat)),
                Tuple.of(1, Arbitraries.integers().between(10_920, 10_925).map("€"::repeat)),
                Tuple.of(1, Arbitraries.integers().between(8_190, 8_194).map("\uD83D\uDE00"::repeat)),
                Tuple.of(2, strings()));
    }

    /** Floats with NaN, infinities, signed zeros, subnormals and the edges of every range. */
    static Arbitrary<Float> floats() {
        return Arbitraries.oneOf(
                Arbitraries.floats().withSpecialValue(Float.NaN).withSpecialValue(Float.POSITIVE_INFINITY)
                        .withSpecialValue(Float.NEGATIVE_INFINITY),
                Arbitraries.of(Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f, Float.MIN_VALUE,
                        -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE, 1f, Math.nextUp(1f), 2f, Math.nextUp(2f),
                        Math.nextDown(0f), Float.intBitsToFloat(0x7fc00001), Float.intBitsToFloat(0xffffffff)),
                Arbitraries.floats().between(-3f, 3f));
    }

    /** Ints with the edges of every range and the extremes. */
    static Arbitrary<Integer> ints() {
        return Arbitraries.oneOf(Arbitraries.integers(),
                Arbitraries.of(0, 1, -1, 9, 10, 95, 96, 63, 64, 500, 501, 4096, 4097, 99, Integer.MIN_VALUE,
                        Integer.MAX_VALUE),
                Arbitraries.integers().between(-10, 5000));
    }

    static Arbitrary<SamplingParams> sampling() {
        Arbitrary<Boolean> mostlyUnset = Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(true)),
                Tuple.of(3, Arbitraries.just(false)));
        Arbitrary<Float> temperature = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.floats().between(0f, 2f)),
                Tuple.of(1, floats()));
        Arbitrary<Float> topP = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.floats().between(0f, 1f)),
                Tuple.of(1, floats()));
        Arbitrary<Integer> maxTokens = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.integers().between(1, 4096)),
                Tuple.of(1, ints()));
        return Combinators.combine(mostlyUnset, temperature, mostlyUnset, topP, mostlyUnset, maxTokens,
                Arbitraries.longs()).as((ht, t, hp, p, hm, m, seed) -> {
                    SamplingParams.Builder b = SamplingParams.newBuilder().setSeed(seed);
                    if (ht) {
                        b.setTemperature(t);
                    }
                    if (hp) {
                        b.setTopP(p);
                    }
                    if (hm) {
                        b.setMaxTokens(m);
                    }
                    return b.build();
                });
    }

    static Arbitrary<SendMessageRequest> sendMessages() {
        Arbitrary<ChatMessage> message = Combinators.combine(Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.of(0, 2)), Tuple.of(1, Arbitraries.of(1, 3)), Tuple.of(1, ints())), texts())
                .as((role, text) -> ChatMessage.newBuilder().setRoleValue(role).setContent(text).build());
        Arbitrary<ResumeState> resume = Combinators.combine(ints().list().ofMaxSize(8), strings(), Arbitraries.longs())
                .as((ids, text, base) -> ResumeState.newBuilder().addAllTokenIds(ids).setText(text)
                        .setBaseVersion(base).build());
        return Combinators.combine(ids(), optionalIds(), message.optional(0.95), sampling().optional(0.7),
                resume.optional(0.1)).as((session, request, m, s, r) -> {
                    SendMessageRequest.Builder b = SendMessageRequest.newBuilder().setSessionId(session)
                            .setRequestId(request);
                    m.ifPresent(b::setMessage);
                    s.ifPresent(b::setSampling);
                    r.ifPresent(b::setResume);
                    return b.build();
                });
    }

    static Arbitrary<CreateSessionRequest> createSessions() {
        Arbitrary<SessionSettings> settings = Combinators.combine(ints(),
                Arbitraries.frequencyOf(Tuple.of(7, Arbitraries.of(0, 1, 2, 3)), Tuple.of(2, Arbitraries.of(4, 99, -1)),
                        Tuple.of(1, ints())),
                Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just(0)), Tuple.of(3, Arbitraries.integers()
                        .between(ApiLimits.MIN_LOW_WATERMARK, ApiLimits.MAX_LOW_WATERMARK)), Tuple.of(3, ints())),
                sampling())
                .as((budget, policy, watermark, s) -> SessionSettings.newBuilder().setContextBudgetTokens(budget)
                        .setPruningPolicyValue(policy).setLowWatermarkPercent(watermark).setSampling(s).build());
        return Combinators.combine(optionalIds(), Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just("")),
                Tuple.of(7, texts())), settings.optional(0.8), Arbitraries.of(true, false))
                .as((id, system, s, existing) -> {
                    CreateSessionRequest.Builder b = CreateSessionRequest.newBuilder().setSessionId(id)
                            .setSystemPrompt(system).setAllowExisting(existing);
                    s.ifPresent(b::setSettings);
                    return b.build();
                });
    }

    /** A valid encoding of a request of {@code method} (what mutations start from). */
    static Arbitrary<byte[]> validEncodings(Method method) {
        return switch (method) {
            case SEND -> sendMessages().map(Message::toByteArray);
            case CREATE -> createSessions().map(Message::toByteArray);
            case GET -> Combinators.combine(ids(), Arbitraries.of(true, false)).as((id, m) -> GetSessionRequest
                    .newBuilder().setSessionId(id).setIncludeMessages(m).build().toByteArray());
            case DELETE -> Combinators.combine(ids(), Arbitraries.of(true, false)).as((id, m) ->
                    DeleteSessionRequest.newBuilder().setSessionId(id).setAllowMissing(m).build().toByteArray());
            case LIST -> Combinators.combine(ints(), strings()).as((size, token) -> ListSessionsRequest.newBuilder()
                    .setPageSize(size).setPageToken(token).build().toByteArray());
        };
    }

    /** Raw protobuf bytes of any shape: every wire type, any field number (ours, unknown, the highest), nesting. */
    static Arbitrary<byte[]> rawFieldSets() {
        return rawFieldSet(3).map(UnknownFieldSet::toByteArray);
    }

    private static Arbitrary<UnknownFieldSet> rawFieldSet(int depth) {
        Arbitrary<Integer> number = Arbitraries.oneOf(Arbitraries.integers().between(1, 16),
                Arbitraries.of(15, 536_870_911, 19_000, 19_999, 1_000_000),
                Arbitraries.integers().between(1, 536_870_911));
        Arbitrary<ByteString> bytes = Arbitraries.oneOf(
                Arbitraries.bytes().array(byte[].class).ofMaxSize(64).map(ByteString::copyFrom),
                strings().map(s -> ByteString.copyFrom(s, StandardCharsets.UTF_8)),
                Arbitraries.of(new byte[] {(byte) 0xC3, 0x28}, new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                        new byte[] {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80},
                        new byte[] {(byte) 0xC0, (byte) 0x80}, new byte[] {'h', 'i', (byte) 0xFF})
                        .map(ByteString::copyFrom));
        Arbitrary<UnknownFieldSet.Field> field;
        if (depth == 0) {
            field = Arbitraries.oneOf(
                    Arbitraries.longs().map(v -> UnknownFieldSet.Field.newBuilder().addVarint(v).build()),
                    Arbitraries.integers().map(v -> UnknownFieldSet.Field.newBuilder().addFixed32(v).build()),
                    Arbitraries.longs().map(v -> UnknownFieldSet.Field.newBuilder().addFixed64(v).build()),
                    bytes.map(b -> UnknownFieldSet.Field.newBuilder().addLengthDelimited(b).build()));
        } else {
            Arbitrary<UnknownFieldSet> inner = rawFieldSet(depth - 1);
            field = Arbitraries.oneOf(
                    Arbitraries.longs().map(v -> UnknownFieldSet.Field.newBuilder().addVarint(v).build()),
                    Arbitraries.integers().map(v -> UnknownFieldSet.Field.newBuilder().addFixed32(v).build()),
                    Arbitraries.longs().map(v -> UnknownFieldSet.Field.newBuilder().addFixed64(v).build()),
                    bytes.map(b -> UnknownFieldSet.Field.newBuilder().addLengthDelimited(b).build()),
                    inner.map(s -> UnknownFieldSet.Field.newBuilder().addLengthDelimited(s.toByteString()).build()),
                    inner.map(s -> UnknownFieldSet.Field.newBuilder().addGroup(s).build()));
        }
        return Combinators.combine(number, field).as(FieldAt::new).list().ofMaxSize(6).map(fields -> {
            UnknownFieldSet.Builder b = UnknownFieldSet.newBuilder();
            for (FieldAt f : fields) {
                b.mergeField(f.number, f.field);
            }
            return b.build();
        });
    }

    private record FieldAt(int number, UnknownFieldSet.Field field) { }

    /** {@code base} mutated: bytes flipped, replaced, inserted or deleted, cut short, or extended with garbage. */
    static Arbitrary<byte[]> mutations(Arbitrary<byte[]> base) {
        Arbitrary<Mutation> one = Combinators.combine(Arbitraries.integers().between(0, 5),
                Arbitraries.integers().between(0, Integer.MAX_VALUE), Arbitraries.bytes()).as(Mutation::new);
        return Combinators.combine(base, one.list().ofMinSize(1).ofMaxSize(4)).as((bytes, ms) -> {
            List<Byte> b = new ArrayList<>(bytes.length + 8);
            for (byte x : bytes) {
                b.add(x);
            }
            for (Mutation m : ms) {
                m.apply(b);
            }
            byte[] out = new byte[b.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = b.get(i);
            }
            return out;
        });
    }

    private record Mutation(int kind, int at, byte value) {
        void apply(List<Byte> b) {
            int i = b.isEmpty() ? 0 : at % b.size();
            switch (kind) {
                case 0 -> { if (!b.isEmpty()) { b.set(i, (byte) (b.get(i) ^ (1 << (value & 7)))); } }
                case 1 -> { if (!b.isEmpty()) { b.set(i, value); } }
                case 2 -> b.add(i, value);
                case 3 -> { if (!b.isEmpty()) { b.remove(i); } }
                case 4 -> { while (b.size() > i) { b.removeLast(); } }
                default -> { for (int k = 0; k < (value & 15) + 1; k++) { b.add((byte) (value * 31 + k)); } }
            }
        }
    }

    /** Any bytes at all, of the sizes that matter: empty, a few, a few thousand. */
    static Arbitrary<byte[]> garbage() {
        return Arbitraries.oneOf(Arbitraries.bytes().array(byte[].class).ofMaxSize(16),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(4096),
                // Truncated varints, unterminated groups, a length beyond the end, deep group nesting.
                Arbitraries.of(new byte[] {(byte) 0x80}, new byte[] {0x08, (byte) 0xFF, (byte) 0xFF},
                        new byte[] {0x0A, 0x7F, 'x'}, new byte[] {0x0B}, new byte[] {0x0C},
                        new byte[] {0x0F}, new byte[] {0x0A, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F},
                        "\u000b".repeat(10_000).getBytes(StandardCharsets.US_ASCII),
                        "\u001a\u00ff".repeat(2_000).getBytes(StandardCharsets.ISO_8859_1)));
    }

    /** Bytes for {@code method}: garbage, raw field sets, and mutated valid encodings, in equal parts. */
    static Arbitrary<byte[]> hostileBytes(Method method) {
        return Arbitraries.oneOf(garbage(), rawFieldSets(), mutations(validEncodings(method)),
                mutations(rawFieldSets()));
    }
}
