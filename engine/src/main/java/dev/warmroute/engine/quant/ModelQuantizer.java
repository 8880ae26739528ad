package dev.warmroute.engine.quant;

import dev.warmroute.engine.gguf.GgmlType;
import dev.warmroute.engine.gguf.GgufFile;
import dev.warmroute.engine.gguf.GgufTensorInfo;
import dev.warmroute.engine.gguf.GgufWriter;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Converts a GGUF model's weight matrices to another type (Q8_0, Q4_0, F16, BF16 or F32), copying everything else.
 *
 * <p>Which tensors change: every tensor of two or more dimensions whose row length is a whole number of the target's
 * blocks, including the token embedding and the output matrix. llama.cpp's Q8_0 does the same; for Q4_0 llama.cpp
 * would store the output matrix as Q6_K, a type we do not have, so ours is Q4_0 as well (a little more error in the
 * logits). One-dimensional tensors (the norms) stay as they are, F32. A matrix whose rows are not whole blocks
 * (the reference model's ffn_down has rows of 172) keeps its type, and the report says so.
 */
public final class ModelQuantizer {

    /** What happened to one tensor. */
    public record Entry(String name, long[] dims, GgmlType from, GgmlType to, long bytesIn, long bytesOut, String note) {}

    private ModelQuantizer() {}

    public static List<Entry> quantize(Path in, Path out, GgmlType target) throws IOException {
        if (!TensorCodec.supports(target)) {
            throw new IllegalArgumentException("--type " + target + " is not supported (f32, f16, bf16, q8_0, q4_0)");
        }
        if (in.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("--out must differ from --in (" + in + ")");
        }
        List<Entry> report = new ArrayList<>();
        try (GgufFile f = GgufFile.open(in)) {
            GgufWriter w = new GgufWriter();
            for (String key : f.metadata().keySet()) {
                if (!key.equals("general.alignment") && !key.equals("general.quantization_version")) {
                    w.copy(f, key);
                }
            }
            w.putUInt32("general.file_type", fileType(target));
            if (target == GgmlType.Q8_0 || target == GgmlType.Q4_0) {
                w.putUInt32("general.quantization_version", 2);
            }
            for (GgufTensorInfo t : f.tensorList()) {
                long[] dims = t.dims();
                GgmlType to = target;
                String note = "";
                if (dims.length < 2) {
                    to = t.type();
                    note = "1-D (norm): kept";
                } else if (!TensorCodec.fits(target, dims[0])) {
                    to = t.type();
                    note = "row length " + dims[0] + " is not a multiple of " + target.blockSize() + ": kept";
                } else if (!TensorCodec.supports(t.type())) {
                    throw new IllegalArgumentException(in + ": tensor " + t.name() + " has type " + t.type()
                            + ", which cannot be converted (supported: F32, F16, BF16, Q8_0, Q4_0)");
                } else if (t.type() == GgmlType.Q8_0 || t.type() == GgmlType.Q4_0) {
                    note = t.type() == target ? "" : "re-quantised from " + t.type() + " (adds error)";
                }
                MemorySegment src = f.data(t);
                if (to == t.type()) {
                    w.addTensor(t.name(), to, dims, sink -> sink.write(src.asByteBuffer()));
                } else {
                    GgmlType from = t.type();
                    GgmlType dst = to;
                    int cols = (int) dims[0];
                    long rows = t.elementCount() / cols;
                    w.addTensor(t.name(), to, dims, sink -> convert(src, from, dst, cols, rows, sink));
                }
                report.add(new Entry(t.name(), dims, t.type(), to, t.byteSize(), to.bytesFor(t.elementCount()), note));
            }
            w.write(out);
        }
        return report;
    }

    private static void convert(MemorySegment src, GgmlType from, GgmlType to, int cols, long rows,
                                GgufWriter.TensorSink sink) throws IOException {
        long inRow = from.bytesFor(cols);
        float[] row = new float[cols];
        ByteBuffer outRow = ByteBuffer.allocate((int) to.bytesFor(cols));
        for (long r = 0; r < rows; r++) {
            TensorCodec.decode(from, src.asSlice(r * inRow, inRow).asByteBuffer(), row, 0, cols);
            outRow.clear();
            TensorCodec.encode(to, row, 0, cols, outRow);
            sink.write(outRow.flip());
        }
    }

    /** llama.cpp's {@code general.file_type} for a model whose weights are mostly {@code t}. */
    public static int fileType(GgmlType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            case BF16 -> 32;
            default -> throw new IllegalArgumentException("no llama.cpp file type for " + t);
        };
    }
}
