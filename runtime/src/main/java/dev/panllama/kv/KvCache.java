package dev.panllama.kv;

import dev.panllama.tensor.codec.BlockCodec;
import dev.panllama.tensor.GgmlType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Keys and values of every layer for positions [0, contextLength), stored off-heap in a ggml type
 * (F16 by default, as llama.cpp; {@code -ctk/-ctv q8_0} halves it again). Row (layer, pos) of K holds
 * the {@code nHeadKv * headDimK} key values of that position, heads contiguous.
 *
 * <p>A {@linkplain #latent latent} cache (multi-head latent attention) holds one row per position that
 * serves as the key of every head, and whose first elements are also the value: the values are views
 * of the key rows and take no memory of their own.
 *
 * <p>The host allocates rows only for the layers it holds ({@link #onHost}): a layer whose attention runs
 * on a device that keeps its cache in its own memory ({@link dev.panllama.backend.Device#keepsKvCache})
 * takes none here, as llama.cpp allocates each layer's cache in its device's buffer.
 */
public final class KvCache implements AutoCloseable {
    /** The types a cache may hold (llama.cpp's -ctk/-ctv that every attention kernel here reads). */
    public static final java.util.Set<GgmlType> TYPES = java.util.Collections.unmodifiableSet(
            java.util.EnumSet.of(GgmlType.F16, GgmlType.BF16, GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_0));
    /** {@link #TYPES} as the flags spell them: {@code f16, bf16, f32, q8_0 or q4_0}. */
    public static final String TYPE_NAMES = "f16, bf16, f32, q8_0 or q4_0";

    private final Arena arena = Arena.ofShared();
    private final int layers;
    private final int contextLength;
    private final int kRowElems;
    private final int vRowElems;
    private final GgmlType kType;
    private final GgmlType vType;
    private final long kRowBytes;
    private final long vRowBytes;
    private final MemorySegment keys;
    private final MemorySegment values;
    private final boolean latent;
    private final int[] hostSlot;        // [layer] -> index of its rows in k and v, or -1 when the host holds none
    private volatile int shifts;

    public KvCache(int layers, int contextLength, int kRowElems, int vRowElems, GgmlType kType, GgmlType vType) {
        this(layers, contextLength, kRowElems, vRowElems, kType, vType, false, null);
    }

    /** @param onHost per layer, whether the host holds its rows (null: all) */
    public KvCache(int layers, int contextLength, int kRowElems, int vRowElems, GgmlType kType, GgmlType vType, boolean[] onHost) {
        this(layers, contextLength, kRowElems, vRowElems, kType, vType, false, onHost);
    }

    /**
     * A latent cache: rows of {@code rowElems} in {@code type}; the value of a position is the first
     * {@code valueElems} of its row (which must fill whole blocks of the type).
     */
    public static KvCache latent(int layers, int contextLength, int rowElems, int valueElems, GgmlType type) {
        return latent(layers, contextLength, rowElems, valueElems, type, null);
    }

    /** A latent cache whose host rows exist for the layers {@code onHost} marks (null: all). */
    public static KvCache latent(int layers, int contextLength, int rowElems, int valueElems, GgmlType type, boolean[] onHost) {
        if (valueElems > rowElems || valueElems % type.blockSize() != 0) {
            throw new IllegalArgumentException("latent values of " + valueElems + " must be whole " + type.ggmlName()
                    + " blocks within rows of " + rowElems);
        }
        return new KvCache(layers, contextLength, rowElems, valueElems, type, type, true, onHost);
    }

    private KvCache(int layers, int contextLength, int kRowElems, int vRowElems, GgmlType kType, GgmlType vType, boolean latent,
                    boolean[] onHost) {
        for (GgmlType t : new GgmlType[]{kType, vType}) {
            if (!TYPES.contains(t)) throw new IllegalArgumentException("KV cache type " + t + " is not supported (use " + TYPE_NAMES + ")");
        }
        this.layers = layers;
        this.contextLength = contextLength;
        this.kRowElems = kRowElems;
        this.vRowElems = vRowElems;
        this.kType = kType;
        this.vType = vType;
        this.kRowBytes = kType.rowBytes(kRowElems);
        this.vRowBytes = vType.rowBytes(vRowElems);
        this.latent = latent;
        if (onHost != null && onHost.length != layers) throw new IllegalArgumentException(onHost.length + " host flags for " + layers + " layers");
        this.hostSlot = new int[layers];
        int hosted = 0;
        for (int l = 0; l < layers; l++) hostSlot[l] = onHost == null || onHost[l] ? hosted++ : -1;
        this.keys = arena.allocate(kRowBytes * hosted * contextLength, 64);
        this.values = latent ? keys : arena.allocate(vRowBytes * hosted * contextLength, 64);
    }

    /** Whether the host holds the rows of {@code layer} (else its device does). */
    public boolean onHost(int layer) { return hostSlot[layer] >= 0; }

    private long slot(int layer) {
        int s = hostSlot[layer];
        if (s < 0) throw new IllegalStateException("the KV cache of layer " + layer + " lives on its device, not on the host");
        return s;
    }

    /** Bytes of a cache of {@code layers × contextLength} positions of {@code bytesPerPosition} each (K and V rows together). */
    public static long bytes(int layers, int contextLength, long bytesPerPosition) {
        return Math.multiplyExact(Math.multiplyExact((long) layers, contextLength), bytesPerPosition);
    }

    /** Whether values are the leading elements of the key rows (see {@link #latent}). */
    public boolean isLatent() { return latent; }

    public int layers() { return layers; }

    public int contextLength() { return contextLength; }

    public GgmlType keyType() { return kType; }

    public GgmlType valueType() { return vType; }

    public int keyRowElements() { return kRowElems; }

    public int valueRowElements() { return vRowElems; }

    /** Bytes the host holds, K and V together. */
    public long byteSize() { return latent ? keys.byteSize() : keys.byteSize() + values.byteSize(); }

    /** The encoded key row of (layer, pos). */
    public MemorySegment keyRow(int layer, int pos) {
        return keys.asSlice(keyOffset(layer, pos), kRowBytes);
    }

    public MemorySegment valueRow(int layer, int pos) {
        return values.asSlice(valueOffset(layer, pos), vRowBytes);
    }

    /** All keys; row (layer, pos) starts at {@link #keyOffset}. For kernels that avoid a slice per row. */
    public MemorySegment keys() { return keys; }

    public MemorySegment values() { return values; }

    public long keyOffset(int layer, int pos) {
        return (slot(layer) * contextLength + pos) * kRowBytes;
    }

    public long valueOffset(int layer, int pos) {
        return latent ? keyOffset(layer, pos) : (slot(layer) * contextLength + pos) * vRowBytes;
    }

    /**
     * Stores keys and values of {@code tokens} consecutive positions from token-major float arrays
     * (a latent cache stores the keys only; {@code values} may be null).
     */
    public void store(int layer, int pos0, int tokens, float[] keys, float[] values) {
        store(layer, pos0, tokens, keys, values, 0);
    }

    /** As {@link #store(int, int, int, float[], float[])}, from row {@code row0} of the arrays. */
    public void store(int layer, int pos0, int tokens, float[] keys, float[] values, int row0) {
        if (pos0 < 0 || pos0 + tokens > contextLength) {
            throw new IllegalArgumentException("positions [" + pos0 + ", " + (pos0 + tokens) + ") exceed the context of " + contextLength);
        }
        BlockCodec kc = kType.codec();
        BlockCodec vc = vType.codec();
        for (int t = 0; t < tokens; t++) {
            kc.quantize(keys, (row0 + t) * kRowElems, keyRow(layer, pos0 + t), 0, kRowElems);
            if (!latent) vc.quantize(values, (row0 + t) * vRowElems, valueRow(layer, pos0 + t), 0, vRowElems);
        }
    }

    /** Whether the host holds every layer's rows (a context shift needs them). */
    public boolean allOnHost() {
        for (int s : hostSlot) if (s < 0) return false;
        return true;
    }

    /**
     * How many {@link #shift}s rewrote rows so far: a device copy of the rows made before the last one
     * is stale.
     */
    public int shifts() { return shifts; }

    /**
     * llama.cpp's context shift on positions [0, end): drops [keep, keep + discard) and moves the rows
     * after them down by {@code discard}, each key re-rotated by {@code -discard} positions' angles
     * (decoded, rotated, encoded again in the cache type); values move as stored.
     */
    public void shift(int keep, int discard, int end, KeyRotation rope) {
        if (keep < 0 || discard < 1 || keep + discard > end || end > contextLength) {
            throw new IllegalArgumentException("cannot drop [" + keep + ", " + (keep + discard) + ") of " + end + " positions");
        }
        if (!allOnHost()) throw new UnsupportedOperationException("the KV cache lives on a device: it cannot be shifted on the host");
        java.util.function.Consumer<float[]> rotate = rope.by(-discard);
        float[] row = new float[kRowElems];
        BlockCodec kc = kType.codec();
        for (int l = 0; l < layers; l++) {
            for (int p = keep + discard; p < end; p++) {
                int to = p - discard;
                kc.dequantize(keyRow(l, p), 0, row, 0, kRowElems);
                rotate.accept(row);
                kc.quantize(row, 0, keyRow(l, to), 0, kRowElems);
                if (!latent) valueRow(l, to).copyFrom(valueRow(l, p));
            }
        }
        shifts++;
    }

    @Override
    public void close() {
        arena.close();
    }
}
