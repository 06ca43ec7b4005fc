package dev.panllama.scheduler;

import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * A micro-batch's activations when the forward pass spans several devices: each device has its own
 * arrays, and each activation (a "slot") remembers which devices hold its current value. An op asks
 * for its inputs on its device — {@link #in} copies a slot there from a device that has it, explicitly,
 * at the boundary — and for its outputs, which {@link #out} makes that device the only valid holder.
 * On a single device nothing is ever copied.
 */
public final class SplitBuffers {
    private final float[][][] arrays;     // [device][slot] -> values, allocated on first use
    private final int[] validOn;          // [slot] -> bit set of devices holding the current value
    private final int[] length;           // [slot] -> valid length
    private final IntFunction<float[]> allocate;
    private long copiedFloats;
    private int copies;

    /** @param allocate makes the array of a slot (by index), e.g. sized for the micro-batch */
    public SplitBuffers(int devices, int slots, IntFunction<float[]> allocate) {
        if (devices > 31) throw new IllegalArgumentException("too many devices: " + devices);
        this.arrays = new float[devices][slots][];
        this.validOn = new int[slots];
        this.length = new int[slots];
        this.allocate = allocate;
    }

    private float[] array(int device, int slot) {
        float[] a = arrays[device][slot];
        if (a == null) a = arrays[device][slot] = allocate.apply(slot);
        return a;
    }

    /** The slot's current values on {@code device}, copied there from a holder if it has none. */
    public float[] in(int device, int slot) {
        int bit = 1 << device;
        float[] dst = array(device, slot);
        int valid = validOn[slot];
        if ((valid & bit) == 0 && valid != 0) {
            float[] src = arrays[Integer.numberOfTrailingZeros(valid)][slot];
            System.arraycopy(src, 0, dst, 0, length[slot]);
            copiedFloats += length[slot];
            copies++;
            validOn[slot] = valid | bit;
        }
        return dst;
    }

    /** The slot's array on {@code device} for writing {@code len} values; the device becomes the only holder. */
    public float[] out(int device, int slot, int len) {
        validOn[slot] = 1 << device;
        length[slot] = len;
        return array(device, slot);
    }

    /** Read-modify-write: the current values on {@code device}, which then is the only holder. */
    public float[] inout(int device, int slot) {
        float[] a = in(device, slot);
        validOn[slot] = 1 << device;
        return a;
    }

    /** Boundary copies made so far, and the floats they moved (for tests and logs). */
    public int copies() { return copies; }

    public long copiedFloats() { return copiedFloats; }

    /** Forgets all values (a new micro-batch starts). */
    public void reset() {
        Arrays.fill(validOn, 0);
        Arrays.fill(length, 0);
    }
}
