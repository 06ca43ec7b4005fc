package dev.panllama.tensor.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * Q4_0_R8 (ik_llama.cpp): eight Q4_0 rows interleaved. Block column b of a group of 8 rows is
 * {@code half d[8]; u8 qs[128]} (iqk_quantize.cpp's block_iq4_nl_r8, 144 bytes, as repack_q4_0 builds
 * it on x86; ARM flips the nibbles' top bits in memory only). Byte qs[32·l + 4·k + i] (l, i &lt; 4) of row
 * k holds element 4·l + i in its low nibble and element 4·l + i + 16 in its high one; value =
 * d[k] · (nibble − 8). Quantization is ik_llama.cpp's quantize_q4_0_r8: each row as Q4_0
 * ({@link LegacyQuantCodec#Q4_0}, whose byte j holds elements j and j + 16 just as here), then repacked.
 */
public final class Q4_0R8Codec extends InterleavedRowsCodec {
    public static final Q4_0R8Codec INSTANCE = new Q4_0R8Codec();

    static final int QS = 16;

    private Q4_0R8Codec() {
        super("Q4_0_R8", 8, 32, 144, LegacyQuantCodec.Q4_0, LegacyQuantCodec.Q4_0.blockBytes, false);
    }

    @Override
    void decodeBlock(MemorySegment src, long block, int row, float d, float[] dst, int out) {
        for (int l = 0; l < 4; l++) {
            for (int i = 0; i < 4; i++) {
                int q = unsignedByte(src, block + QS + 32L * l + 4 * row + i);
                dst[out + 4 * l + i] = d * ((q & 0x0F) - 8);
                dst[out + 4 * l + i + 16] = d * ((q >>> 4) - 8);
            }
        }
    }

    @Override
    void repackBlock(MemorySegment rows, long plain, int k, byte[] out) {
        for (int l = 0; l < 4; l++) MemorySegment.copy(rows, ValueLayout.JAVA_BYTE, plain + 2 + 4 * l, out, QS + 32 * l + 4 * k, 4);
    }
}
