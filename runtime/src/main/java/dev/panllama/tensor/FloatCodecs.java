package dev.panllama.tensor;

import dev.panllama.tensor.codec.BlockCodec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** The unquantized float types: F32, F16 (IEEE half) and BF16 (bfloat16), little-endian in files. */
public final class FloatCodecs {
    private FloatCodecs() {}

    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public static final BlockCodec F32 = new BlockCodec() {
        @Override
        public void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
            MemorySegment.copy(src, F32_LE, offset, dst, dstOff, n);
        }

        @Override
        public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
            MemorySegment.copy(src, srcOff, dst, F32_LE, offset, n);
        }

        @Override
        public boolean canQuantize() { return true; }
    };

    public static final BlockCodec F16 = new BlockCodec() {
        @Override
        public void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
            for (int i = 0; i < n; i++) dst[dstOff + i] = Float.float16ToFloat(src.get(I16_LE, offset + 2L * i));
        }

        @Override
        public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
            // Float.floatToFloat16 rounds to nearest even, as F16C's vcvtps2ph (ggml's conversion) does.
            for (int i = 0; i < n; i++) dst.set(I16_LE, offset + 2L * i, Float.floatToFloat16(src[srcOff + i]));
        }

        @Override
        public boolean canQuantize() { return true; }
    };

    public static final BlockCodec BF16 = new BlockCodec() {
        @Override
        public void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
            for (int i = 0; i < n; i++) dst[dstOff + i] = bf16ToFloat(src.get(I16_LE, offset + 2L * i));
        }

        @Override
        public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
            for (int i = 0; i < n; i++) dst.set(I16_LE, offset + 2L * i, floatToBf16(src[srcOff + i]));
        }

        @Override
        public boolean canQuantize() { return true; }
    };

    public static float bf16ToFloat(short h) {
        return Float.intBitsToFloat((h & 0xFFFF) << 16);
    }

    /** Round to nearest even; NaNs are kept quiet (ggml_compute_fp32_to_bf16's rule). */
    public static short floatToBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) {
            return (short) ((u >>> 16) | 64);
        }
        return (short) ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16);
    }
}
