package dev.warmroute.engine.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (versions 2 and 3, little-endian), memory-mapped with the FFM API: the header and metadata are parsed
 * eagerly (by {@link GgufParser}), tensor data stays in the mapping and is handed out as {@link MemorySegment}
 * slices.
 *
 * <p>Every read is bounds-checked against the file size first, so a truncated or corrupt file fails with a
 * {@link GgufException} naming the file, the byte offset and the field being read, never with an
 * IndexOutOfBoundsException from deep inside.
 *
 * <p>Metadata values are kept as Java values: unsigned 8/16-bit integers and signed 8/16/32-bit integers as
 * {@link Integer}, UINT32/UINT64/INT64 as {@link Long}, FLOAT32 as {@link Float}, FLOAT64 as {@link Double}, BOOL as
 * {@link Boolean}, STRING as {@link String}. Arrays become primitive arrays ({@code byte[]} for (U)INT8,
 * {@code short[]} for (U)INT16, {@code int[]} for (U)INT32, {@code long[]} for (U)INT64, {@code float[]},
 * {@code double[]}, {@code boolean[]}, {@code String[]}, and {@code Object[]} for arrays of arrays); the element type
 * is available from {@link #arrayElementType(String)}.
 */
public final class GgufFile implements AutoCloseable {

    public static final int MAGIC = 0x46554747; // "GGUF" read little-endian
    public static final long DEFAULT_ALIGNMENT = 32;

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, GgufValueType> types;
    private final Map<String, GgufValueType> arrayTypes;
    private final Map<String, GgufTensorInfo> tensors;
    private final long alignment;
    private final long dataOffset;

    private GgufFile(Path path, Arena arena, MemorySegment file, GgufParser p) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        this.version = p.version;
        this.metadata = Collections.unmodifiableMap(p.metadata);
        this.types = Collections.unmodifiableMap(p.types);
        this.arrayTypes = Collections.unmodifiableMap(p.arrayTypes);
        this.tensors = Collections.unmodifiableMap(p.tensors);
        this.alignment = p.alignment;
        this.dataOffset = p.dataOffset;
    }

    /** Maps and parses the file. The caller closes it (unmapping the file). */
    public static GgufFile open(Path path) {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new GgufException("model file " + path + " does not exist");
        } catch (AccessDeniedException e) {
            throw new GgufException("model file " + path + " cannot be read: permission denied");
        } catch (IOException e) {
            throw new GgufException("model file " + path + " cannot be opened: " + e.getMessage(), e);
        }
        Arena arena = Arena.ofShared();
        try (channel) {
            if (channel.size() == 0) {
                throw new GgufException(path + ": empty file (0 bytes), expected a GGUF header");
            }
            MemorySegment segment = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            GgufParser parser = new GgufParser(path, segment);
            parser.parse();
            return new GgufFile(path, arena, segment, parser);
        } catch (IOException e) {
            arena.close();
            throw new GgufException("model file " + path + " cannot be mapped: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public long fileSize() {
        return file.byteSize();
    }

    public long alignment() {
        return alignment;
    }

    /** Absolute byte offset of the tensor data section. */
    public long dataOffset() {
        return dataOffset;
    }

    /** All metadata in file order (unmodifiable). */
    public Map<String, Object> metadata() {
        return metadata;
    }

    /** Tensor infos in file order (unmodifiable). */
    public Map<String, GgufTensorInfo> tensors() {
        return tensors;
    }

    public List<GgufTensorInfo> tensorList() {
        return List.copyOf(tensors.values());
    }

    public boolean contains(String key) {
        return metadata.containsKey(key);
    }

    public GgufValueType valueType(String key) {
        return types.get(key);
    }

    /** The element type of an array value, or null when the key is absent or not an array. */
    public GgufValueType arrayElementType(String key) {
        return arrayTypes.get(key);
    }

    public Object get(String key) {
        return metadata.get(key);
    }

    public String getString(String key) {
        Object v = require(key);
        if (v instanceof String s) {
            return s;
        }
        throw wrongType(key, "a string");
    }

    public String getString(String key, String defaultValue) {
        return contains(key) ? getString(key) : defaultValue;
    }

    /** An integer value of any GGUF integer type, checked to fit an int. */
    public int getInt(String key) {
        Object v = require(key);
        if (v instanceof Integer i) {
            return i;
        }
        if (v instanceof Long l) {
            if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
                throw new GgufException(path + ": metadata " + key + " = " + l + " does not fit a 32-bit integer");
            }
            return (int) (long) l;
        }
        throw wrongType(key, "an integer");
    }

    public int getInt(String key, int defaultValue) {
        return contains(key) ? getInt(key) : defaultValue;
    }

    public long getLong(String key) {
        Object v = require(key);
        if (v instanceof Integer i) {
            return i;
        }
        if (v instanceof Long l) {
            return l;
        }
        throw wrongType(key, "an integer");
    }

    /** A FLOAT32 or FLOAT64 value (integers are accepted too: some writers store 10000 as an integer). */
    public float getFloat(String key) {
        Object v = require(key);
        if (v instanceof Float f) {
            return f;
        }
        if (v instanceof Double d) {
            return (float) (double) d;
        }
        if (v instanceof Integer || v instanceof Long) {
            return ((Number) v).floatValue();
        }
        throw wrongType(key, "a number");
    }

    public float getFloat(String key, float defaultValue) {
        return contains(key) ? getFloat(key) : defaultValue;
    }

    public boolean getBoolean(String key, boolean defaultValue) {
        if (!contains(key)) {
            return defaultValue;
        }
        Object v = metadata.get(key);
        if (v instanceof Boolean b) {
            return b;
        }
        throw wrongType(key, "a boolean");
    }

    public String[] getStringArray(String key) {
        Object v = require(key);
        if (v instanceof String[] a) {
            return a.clone();
        }
        throw wrongType(key, "an array of strings");
    }

    public float[] getFloatArray(String key) {
        Object v = require(key);
        if (v instanceof float[] a) {
            return a.clone();
        }
        throw wrongType(key, "an array of FLOAT32");
    }

    /** An array of any integer type up to 32 bits, widened to int (unsigned types zero-extended). */
    public int[] getIntArray(String key) {
        Object v = require(key);
        GgufValueType t = arrayTypes.get(key);
        if (v instanceof int[] a) {
            return a.clone();
        }
        if (v instanceof byte[] a) {
            int[] r = new int[a.length];
            for (int i = 0; i < a.length; i++) {
                r[i] = t == GgufValueType.UINT8 ? a[i] & 0xFF : a[i];
            }
            return r;
        }
        if (v instanceof short[] a) {
            int[] r = new int[a.length];
            for (int i = 0; i < a.length; i++) {
                r[i] = t == GgufValueType.UINT16 ? a[i] & 0xFFFF : a[i];
            }
            return r;
        }
        throw wrongType(key, "an array of integers");
    }

    public GgufTensorInfo tensor(String name) {
        GgufTensorInfo t = tensors.get(name);
        if (t == null) {
            throw new GgufException(path + ": tensor " + name + " is missing");
        }
        return t;
    }

    /** The tensor's bytes, a slice of the mapping valid until {@link #close()}. */
    public MemorySegment data(GgufTensorInfo tensor) {
        return file.asSlice(dataOffset + tensor.offset(), tensor.byteSize());
    }

    /** The whole mapped file. */
    public MemorySegment segment() {
        return file;
    }

    /** Unmaps the file; segments handed out before become inaccessible. */
    @Override
    public void close() {
        arena.close();
    }

    private Object require(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            throw new GgufException(path + ": metadata key " + key + " is missing");
        }
        return v;
    }

    private GgufException wrongType(String key, String expected) {
        GgufValueType t = types.get(key);
        GgufValueType e = arrayTypes.get(key);
        return new GgufException(path + ": metadata " + key + " is " + t + (e == null ? "" : " of " + e)
                + ", expected " + expected);
    }
}
