package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The raw E4M3 bytes of panllama's FP8 tensor type, one value per byte ({@link Fp8}). The codec sees
 * no scales: a weight of an FP8 GGUF is these values times its scale tensor (README, "FP8 GGUF"),
 * which the loader folds in when it converts the weight to Q8_0.
 */
public final class F8E4M3Codec implements BlockCodec {
    public static final F8E4M3Codec INSTANCE = new F8E4M3Codec();

    private F8E4M3Codec() {}

    @Override
    public void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) dst[dstOff + i] = Fp8.decodeE4M3(src.get(ValueLayout.JAVA_BYTE, offset + i));
    }

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        for (int i = 0; i < n; i++) dst.set(ValueLayout.JAVA_BYTE, offset + i, Fp8.encodeE4M3(src[srcOff + i]));
    }

    @Override
    public boolean canQuantize() { return true; }
}
