package dev.panllama.safetensors;

import dev.panllama.tensor.FloatCodecs;
import dev.panllama.tensor.codec.Fp8;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The element types of a safetensors file, by the names its header uses (safetensors' Dtype enum),
 * little-endian. The float types decode to float; the integer types are only sized and carried.
 */
public enum SafetensorsDType {
    BOOL(1), U8(1), I8(1), I16(2), I32(4), I64(8),
    F64(8), F32(4), F16(2), BF16(2), F8_E4M3(1), F8_E5M2(1);

    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int byteSize;

    SafetensorsDType(int byteSize) {
        this.byteSize = byteSize;
    }

    public int byteSize() { return byteSize; }

    public boolean isFloat() {
        return this == F64 || this == F32 || this == F16 || this == BF16 || this == F8_E4M3 || this == F8_E5M2;
    }

    public boolean isFp8() { return this == F8_E4M3 || this == F8_E5M2; }

    /** The type named {@code name} in a header, or null. */
    public static SafetensorsDType byName(String name) {
        for (SafetensorsDType t : values()) if (t.name().equals(name)) return t;
        return null;
    }

    /** Decodes n elements at element index {@code first} of {@code src} into {@code dst[dstOff..]}. */
    public void decode(MemorySegment src, long first, float[] dst, int dstOff, int n) {
        long at = first * byteSize;
        switch (this) {
            case F32 -> MemorySegment.copy(src, F32_LE, at, dst, dstOff, n);
            case F64 -> { for (int i = 0; i < n; i++) dst[dstOff + i] = (float) src.get(F64_LE, at + 8L * i); }
            case F16 -> { for (int i = 0; i < n; i++) dst[dstOff + i] = Float.float16ToFloat(src.get(I16_LE, at + 2L * i)); }
            case BF16 -> { for (int i = 0; i < n; i++) dst[dstOff + i] = FloatCodecs.bf16ToFloat(src.get(I16_LE, at + 2L * i)); }
            case F8_E4M3 -> { for (int i = 0; i < n; i++) dst[dstOff + i] = Fp8.decodeE4M3(src.get(ValueLayout.JAVA_BYTE, at + i)); }
            case F8_E5M2 -> { for (int i = 0; i < n; i++) dst[dstOff + i] = Fp8.decodeE5M2(src.get(ValueLayout.JAVA_BYTE, at + i)); }
            default -> throw new UnsupportedOperationException("safetensors " + this + " elements are not floats");
        }
    }
}
