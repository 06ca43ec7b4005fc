package dev.panllama.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;

import java.lang.foreign.MemorySegment;

import static dev.panllama.cpu.VecMath.F;
import static dev.panllama.cpu.VecMath.F32;
import static dev.panllama.cpu.VecMath.FL;
import static dev.panllama.cpu.VecMath.LE;
import static dev.panllama.cpu.VecMath.S_HALF;

/**
 * F32, F16 and BF16 weights against float activations. F16/BF16 widen in registers
 * ({@link VecMath#halfToFloat}); ggml instead rounds the activations to the weight type, so our
 * products are slightly more precise.
 */
final class FloatRowKernels {
    private FloatRowKernels() {}

    /**
     * A float-like type. One class for the three, the format chosen by a final field rather than by
     * subclasses: a load through a virtual call seen with two receivers would be inlined bimorphically
     * or not at all, and a FloatVector returned from a call that is not inlined is boxed (see RowKernel).
     */
    private static final class Kernel implements RowKernel {
        private static final int FLOAT32 = 0, HALF = 1, BRAIN = 2;
        private final int format;
        private final int bytes;

        Kernel(int format) {
            this.format = format;
            this.bytes = format == FLOAT32 ? 4 : 2;
        }

        private float scalar(MemorySegment w, long off) {
            return switch (format) {
                case FLOAT32 -> w.get(F32, off);
                case HALF -> Float.float16ToFloat(w.get(VecMath.I16, off));
                default -> Float.intBitsToFloat((w.get(VecMath.I16, off) & 0xFFFF) << 16);
            };
        }

        @Override
        public ActivationFormat activation() { return ActivationFormat.F32; }

        @Override
        public void dotTokens(MemorySegment w, long rowOff, Activations a, float[] y, int yOff, int yStride) {
            for (int t = 0; t < a.tokens; t++) y[t * yStride + yOff] = dot(w, rowOff, a, t);   // per class: see RowKernel
        }

        @Override
        public float dot(MemorySegment w, long rowOff, Activations a, int t) {
            w.get(VecMath.FAULT_GUARD, rowOff);   // see VecMath.FAULT_GUARD
            float[] x = a.x;
            int xo = t * a.k;
            int k = a.k;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            int i = 0;
            long step = (long) FL * bytes;
            for (; i + 2 * FL <= k; i += 2 * FL) {
                long o = rowOff + (long) i * bytes;
                FloatVector w0, w1;
                switch (format) {     // inline, not in a helper method: see VecMath.FAULT_GUARD
                    case FLOAT32 -> {
                        w0 = FloatVector.fromMemorySegment(F, w, o, LE);
                        w1 = FloatVector.fromMemorySegment(F, w, o + step, LE);
                    }
                    case HALF -> {
                        w0 = VecMath.halfToFloat(ShortVector.fromMemorySegment(S_HALF, w, o, LE));
                        w1 = VecMath.halfToFloat(ShortVector.fromMemorySegment(S_HALF, w, o + step, LE));
                    }
                    default -> {
                        w0 = VecMath.bf16ToFloat(ShortVector.fromMemorySegment(S_HALF, w, o, LE));
                        w1 = VecMath.bf16ToFloat(ShortVector.fromMemorySegment(S_HALF, w, o + step, LE));
                    }
                }
                acc0 = w0.fma(FloatVector.fromArray(F, x, xo + i), acc0);
                acc1 = w1.fma(FloatVector.fromArray(F, x, xo + i + FL), acc1);
            }
            float s = VecMath.sum(acc0.add(acc1));
            for (; i < k; i++) s += scalar(w, rowOff + (long) i * bytes) * x[xo + i];
            return s;
        }

        @Override
        public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
            w.get(VecMath.FAULT_GUARD, rowOff);   // see VecMath.FAULT_GUARD
            int i = 0;
            for (; i + FL <= k; i += FL) {
                long o = rowOff + (long) i * bytes;
                FloatVector v = switch (format) {     // inline, not in a helper method: see VecMath.FAULT_GUARD
                    case FLOAT32 -> FloatVector.fromMemorySegment(F, w, o, LE);
                    case HALF -> VecMath.halfToFloat(ShortVector.fromMemorySegment(S_HALF, w, o, LE));
                    default -> VecMath.bf16ToFloat(ShortVector.fromMemorySegment(S_HALF, w, o, LE));
                };
                v.intoArray(dst, dstOff + i);
            }
            for (; i < k; i++) dst[dstOff + i] = scalar(w, rowOff + (long) i * bytes);
        }
    }

    static final RowKernel F32_KERNEL = new Kernel(Kernel.FLOAT32);
    static final RowKernel F16_KERNEL = new Kernel(Kernel.HALF);
    static final RowKernel BF16_KERNEL = new Kernel(Kernel.BRAIN);
}
