package dev.panllama.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import static dev.panllama.cpu.IntDot.B128;
import static dev.panllama.cpu.IntDot.I256;

/**
 * Level lookups for the vectorized dequantizers of ik_llama.cpp's types, 8 values at a time as
 * {@link DequantSteps} works: 8 int lane indices become bytes, select from 16-level shuffle tables
 * (several tables and blends on the index's upper bits for 32 and 64 levels), and come back as ints.
 * The levels are exact integers, so the dequantizers' products with the sub-block scale equal the
 * scalar codecs' bit for bit.
 */
final class IqkDequant {
    private IqkDequant() {}

    private static ByteVector bytes(IntVector idx) {
        return (ByteVector) idx.convertShape(VectorOperators.I2B, DequantSteps.B64, 0).reinterpretShape(B128, 0);
    }

    private static IntVector ints(ByteVector levels) {
        return (IntVector) levels.convertShape(VectorOperators.B2I, I256, 0);
    }

    /** Indices 0..15 into one table. */
    static IntVector levels(IntVector idx, ByteVector table) {
        return ints(bytes(idx).selectFrom(table));
    }

    /** Indices 0..31 into two tables of 16. */
    static IntVector levels(IntVector idx, ByteVector low, ByteVector high) {
        ByteVector b = bytes(idx);
        ByteVector i = b.and((byte) 0x0F);
        VectorMask<Byte> upper = b.and((byte) 0x10).compare(VectorOperators.NE, (byte) 0);
        return ints(i.selectFrom(low).blend(i.selectFrom(high), upper));
    }

    /** Indices 0..63 into four tables of 16. */
    static IntVector levels(IntVector idx, ByteVector t0, ByteVector t1, ByteVector t2, ByteVector t3) {
        ByteVector b = bytes(idx);
        ByteVector i = b.and((byte) 0x0F);
        VectorMask<Byte> bit4 = b.and((byte) 0x10).compare(VectorOperators.NE, (byte) 0);
        VectorMask<Byte> bit5 = b.and((byte) 0x20).compare(VectorOperators.NE, (byte) 0);
        ByteVector lower = i.selectFrom(t0).blend(i.selectFrom(t1), bit4);
        ByteVector upper = i.selectFrom(t2).blend(i.selectFrom(t3), bit4);
        return ints(lower.blend(upper, bit5));
    }
}
