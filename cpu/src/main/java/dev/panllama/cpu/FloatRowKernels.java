package dev.panllama.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.panllama.cpu.VecMath.F;
import static dev.panllama.cpu.VecMath.F32;
import static dev.panllama.cpu.VecMath.FL;
import static dev.panllama.cpu.VecMath.LE;

/**
 * F32, F16 and BF16 weights against float activations. F16/BF16 widen in registers
 * ({@link VecMath#halfToFloat}); ggml instead rounds the activations to the weight type, so our
 * products are slightly more precise.
 */
final class FloatRowKernels {
    private FloatRowKernels() {}

    /** A float-like type: how to read FL consecutive weights as floats. */
    private abstract static class Base implements RowKernel {
        final int bytes;

        Base(int bytes) { this.bytes = bytes; }

        abstract FloatVector load(MemorySegment w, long off);

        abstract float scalar(MemorySegment w, long off);

        @Override
        public ActivationFormat activation() { return ActivationFormat.F32; }

        @Override
        public float dot(MemorySegment w, long rowOff, Activations a, int t) {
            float[] x = a.x;
            int xo = t * a.k;
            int k = a.k;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            int i = 0;
            for (; i + 2 * FL <= k; i += 2 * FL) {
                acc0 = load(w, rowOff + (long) i * bytes).fma(FloatVector.fromArray(F, x, xo + i), acc0);
                acc1 = load(w, rowOff + (long) (i + FL) * bytes).fma(FloatVector.fromArray(F, x, xo + i + FL), acc1);
            }
            float s = VecMath.sum(acc0.add(acc1));
            for (; i < k; i++) s += scalar(w, rowOff + (long) i * bytes) * x[xo + i];
            return s;
        }

        @Override
        public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
            int i = 0;
            for (; i + FL <= k; i += FL) load(w, rowOff + (long) i * bytes).intoArray(dst, dstOff + i);
            for (; i < k; i++) dst[dstOff + i] = scalar(w, rowOff + (long) i * bytes);
        }
    }

    static final RowKernel F32_KERNEL = new Base(4) {
        @Override
        FloatVector load(MemorySegment w, long off) { return FloatVector.fromMemorySegment(F, w, off, LE); }

        @Override
        float scalar(MemorySegment w, long off) { return w.get(F32, off); }
    };

    static final RowKernel F16_KERNEL = new Base(2) {
        @Override
        FloatVector load(MemorySegment w, long off) { return VecMath.halfToFloat(w, off); }

        @Override
        float scalar(MemorySegment w, long off) { return Float.float16ToFloat(w.get(VecMath.I16, off)); }
    };

    static final RowKernel BF16_KERNEL = new Base(2) {
        @Override
        FloatVector load(MemorySegment w, long off) { return VecMath.bf16ToFloat(w, off); }

        @Override
        float scalar(MemorySegment w, long off) { return Float.intBitsToFloat((w.get(VecMath.I16, off) & 0xFFFF) << 16); }
    };
}
