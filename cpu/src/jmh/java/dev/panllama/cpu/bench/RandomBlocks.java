package dev.panllama.cpu.bench;

import dev.panllama.tensor.GgmlType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * Rows of random blocks for the weight types panllama cannot quantize (ik_llama.cpp's IQ2_K, IQ3_K,
 * IQ5_K, IQ6_K, IQ2_KS and the row-interleaved types): every bit pattern of the integer fields is a
 * valid encoding, and the float fields (row scales, block scales d) get small random values so that the
 * products stay finite. The kernels' work does not depend on the values.
 */
final class RandomBlocks {
    private RandomBlocks() {}

    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static void fill(GgmlType type, MemorySegment dst, long rowBytes, int rows, Random rnd) {
        int[] halves = halfFields(type);
        for (long i = 0; i < dst.byteSize(); i++) dst.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
        int unit = type.interleavedRows();
        long stored = (long) unit * type.typeSize();
        for (long r = 0; r < rows; r += unit) {
            long start = r * rowBytes;
            if (type.rowMetaSize() == 4) dst.set(F32, start, small(rnd));
            if (type.rowMetaSize() == 2) dst.set(F16, start, Float.floatToFloat16(small(rnd)));
            for (long b = start + type.rowMetaSize(); b < start + unit * rowBytes; b += stored) {
                for (int field : halves) dst.set(F16, b + field, Float.floatToFloat16(small(rnd)));
            }
        }
    }

    private static float small(Random rnd) {
        return (float) rnd.nextGaussian() * 0.001f;
    }

    /** Byte offsets of the f16 fields in a stored block (ggml-common.h); row scales are handled apart. */
    private static int[] halfFields(GgmlType type) {
        return switch (type) {
            case IQ2_K, IQ3_K, IQ4_K, IQ5_K, IQ6_K -> new int[]{0};
            case IQ2_KS, IQ4_KS, IQ4_KSS -> new int[]{};
            case IQ2_K_R4, IQ3_K_R4, IQ4_K_R4 -> new int[]{0, 2, 4, 6};
            case Q4_0_R8, Q8_0_R8 -> new int[]{0, 2, 4, 6, 8, 10, 12, 14};
            default -> throw new IllegalArgumentException("no random-block layout for " + type);
        };
    }
}
