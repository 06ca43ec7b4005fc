package dev.panllama.tensor;

import dev.panllama.tensor.codec.BlockCodec;
import dev.panllama.tensor.codec.F8E4M3Codec;
import dev.panllama.tensor.codec.Iq2KCodec;
import dev.panllama.tensor.codec.Iq2KR4Codec;
import dev.panllama.tensor.codec.Iq2KsCodec;
import dev.panllama.tensor.codec.Iq3KCodec;
import dev.panllama.tensor.codec.Iq3KR4Codec;
import dev.panllama.tensor.codec.Iq4KCodec;
import dev.panllama.tensor.codec.Iq4KR4Codec;
import dev.panllama.tensor.codec.Iq4KsCodec;
import dev.panllama.tensor.codec.Iq4KssCodec;
import dev.panllama.tensor.codec.Iq4NlCodec;
import dev.panllama.tensor.codec.Iq4XsCodec;
import dev.panllama.tensor.codec.Iq5KCodec;
import dev.panllama.tensor.codec.Iq6KCodec;
import dev.panllama.tensor.codec.LegacyQuantCodec;
import dev.panllama.tensor.codec.Q2KBlockCodec;
import dev.panllama.tensor.codec.Q3KBlockCodec;
import dev.panllama.tensor.codec.Q45KBlockCodec;
import dev.panllama.tensor.codec.Q4_0R8Codec;
import dev.panllama.tensor.codec.Q6KBlockCodec;
import dev.panllama.tensor.codec.Q8KBlockCodec;
import dev.panllama.tensor.codec.Q8Codec;
import dev.panllama.tensor.codec.Q8_0R8Codec;
import dev.panllama.tensor.codec.RowGroupCodec;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Every tensor type a GGUF file can hold, one row per type as in ggml's type-traits table: the id
 * written in files, ggml's name, elements per block, bytes per block, bytes of per-row metadata, and
 * the codec that converts blocks to and from floats.
 *
 * <p>Facts from ggml.h / ggml.c / ggml-common.h (ggml-org) for ids below 128, and from
 * ik_llama.cpp's ggml.h / ggml.c / ggml-common.h (8337e4cd) for its own types, whose ids lie outside
 * mainline's range. Both agree on ids 0..41 where both define them. A type with no codec can still be
 * opened, listed and sized; reading its values fails with a message naming the type.
 */
public enum GgmlType {
    // id, ggml name, block size, type size, row meta bytes, codec
    F32(0, "f32", 1, 4, 0, () -> FloatCodecs.F32),
    F16(1, "f16", 1, 2, 0, () -> FloatCodecs.F16),
    Q4_0(2, "q4_0", 32, 18, 0, () -> LegacyQuantCodec.Q4_0),
    Q4_1(3, "q4_1", 32, 20, 0, () -> LegacyQuantCodec.Q4_1),
    Q5_0(6, "q5_0", 32, 22, 0, () -> LegacyQuantCodec.Q5_0),
    Q5_1(7, "q5_1", 32, 24, 0, () -> LegacyQuantCodec.Q5_1),
    Q8_0(8, "q8_0", 32, 34, 0, () -> Q8Codec.Q8_0),
    Q8_1(9, "q8_1", 32, 36, 0, () -> Q8Codec.Q8_1),
    Q2_K(10, "q2_K", 256, 84, 0, () -> Q2KBlockCodec.INSTANCE),
    Q3_K(11, "q3_K", 256, 110, 0, () -> Q3KBlockCodec.INSTANCE),
    Q4_K(12, "q4_K", 256, 144, 0, () -> Q45KBlockCodec.Q4_K),
    Q5_K(13, "q5_K", 256, 176, 0, () -> Q45KBlockCodec.Q5_K),
    Q6_K(14, "q6_K", 256, 210, 0, () -> Q6KBlockCodec.INSTANCE),
    Q8_K(15, "q8_K", 256, 292, 0, () -> Q8KBlockCodec.INSTANCE),
    IQ2_XXS(16, "iq2_xxs", 256, 66, 0, null),
    IQ2_XS(17, "iq2_xs", 256, 74, 0, null),
    IQ3_XXS(18, "iq3_xxs", 256, 98, 0, null),
    IQ1_S(19, "iq1_s", 256, 50, 0, null),
    IQ4_NL(20, "iq4_nl", 32, 18, 0, () -> Iq4NlCodec.INSTANCE),
    IQ3_S(21, "iq3_s", 256, 110, 0, null),
    IQ2_S(22, "iq2_s", 256, 82, 0, null),
    IQ4_XS(23, "iq4_xs", 256, 136, 0, () -> Iq4XsCodec.INSTANCE),
    I8(24, "i8", 1, 1, 0, null),
    I16(25, "i16", 1, 2, 0, null),
    I32(26, "i32", 1, 4, 0, null),
    I64(27, "i64", 1, 8, 0, null),
    F64(28, "f64", 1, 8, 0, null),
    IQ1_M(29, "iq1_m", 256, 56, 0, null),
    BF16(30, "bf16", 1, 2, 0, () -> FloatCodecs.BF16),
    // 31..33: Q4_0 repacked for ARM; mainline dropped them from files, ik_llama.cpp still reads them.
    Q4_0_4_4(31, "q4_0_4x4", 32, 18, 0, null),
    Q4_0_4_8(32, "q4_0_4x8", 32, 18, 0, null),
    Q4_0_8_8(33, "q4_0_8x8", 32, 18, 0, null),
    TQ1_0(34, "tq1_0", 256, 54, 0, null),
    TQ2_0(35, "tq2_0", 256, 66, 0, null),
    MXFP4(39, "mxfp4", 32, 17, 0, null),
    NVFP4(40, "nvfp4", 64, 36, 0, null),
    Q1_0(41, "q1_0", 128, 18, 0, null),
    Q2_0(42, "q2_0", 64, 18, 0, null),

    // ik_llama.cpp
    Q6_0(133, "q6_0", 32, 26, 0, null),
    IQ1_BN(134, "iq1_bn", 64, 13, 2, null),
    IQ2_BN(135, "iq2_bn", 64, 16, 4, null),
    IQ2_K(137, "iq2_k", 256, 76, 0, () -> Iq2KCodec.INSTANCE),
    IQ3_K(138, "iq3_k", 256, 110, 0, () -> Iq3KCodec.INSTANCE),
    IQ4_K(139, "iq4_k", 256, 144, 0, () -> Iq4KCodec.INSTANCE),
    IQ5_K(140, "iq5_k", 256, 176, 0, () -> Iq5KCodec.INSTANCE),
    IQ6_K(141, "iq6_k", 256, 212, 0, () -> Iq6KCodec.INSTANCE),
    IQ4_KS(144, "iq4_ks", 256, 136, 4, () -> Iq4KsCodec.INSTANCE),
    IQ2_KS(145, "iq2_ks", 256, 70, 2, () -> Iq2KsCodec.INSTANCE),
    IQ4_KSS(146, "iq4_kss", 256, 128, 4, () -> Iq4KssCodec.INSTANCE),
    IQ5_KS(152, "iq5_ks", 256, 168, 4, null),
    IQ2_KT(153, "iq2_kt", 256, 68, 4, null),
    IQ3_KT(154, "iq3_kt", 256, 100, 4, null),
    IQ4_KT(155, "iq4_kt", 256, 128, 4, null),
    IQ3_KS(156, "iq3_ks", 256, 102, 2, null),
    IQ2_KL(157, "iq2_kl", 256, 86, 2, null),
    IQ1_KT(158, "iq1_kt", 256, 56, 4, null),
    Q4_0_R8(202, "q4_0_r8", 32, 18, 0, () -> Q4_0R8Codec.INSTANCE),
    Q5_0_R4(206, "q5_0_r4", 32, 22, 0, null),
    Q8_0_R8(208, "q8_0_r8", 32, 34, 0, () -> Q8_0R8Codec.INSTANCE),
    Q2_K_R4(210, "q2_k_r4", 256, 84, 0, null),
    Q3_K_R4(211, "q3_k_r4", 256, 110, 0, null),
    Q4_K_R4(212, "q4_k_r4", 256, 144, 0, null),
    Q5_K_R4(213, "q5_k_r4", 256, 176, 0, null),
    Q6_K_R4(214, "q6_k_r4", 256, 210, 0, null),
    IQ2_XXS_R4(216, "iq2_xxs_r4", 256, 66, 0, null),
    IQ2_XS_R4(217, "iq2_xs_r4", 256, 74, 0, null),
    IQ3_XXS_R4(218, "iq3_xxs_r4", 256, 98, 0, null),
    IQ1_S_R4(219, "iq1_s_r4", 32, 6, 2, null),
    IQ4_NL_R4(220, "iq4_nl_r4", 32, 18, 0, null),
    IQ3_S_R4(221, "iq3_s_r4", 256, 110, 0, null),
    IQ2_S_R4(222, "iq2_s_r4", 256, 82, 0, null),
    IQ4_XS_R8(223, "iq4_xs_r8", 256, 136, 0, null),
    IQ1_M_R4(229, "iq1_m_r4", 32, 7, 2, null),
    BF16_R16(230, "bf16_r16", 1, 2, 0, null),
    Q6_0_R4(233, "q6_0_r4", 32, 26, 0, null),
    IQ2_BN_R4(335, "iq2_bn_r4", 64, 16, 4, null),
    IQ2_K_R4(337, "iq2_k_r4", 256, 76, 0, () -> Iq2KR4Codec.INSTANCE),
    IQ3_K_R4(338, "iq3_k_r4", 256, 110, 0, () -> Iq3KR4Codec.INSTANCE),
    IQ4_K_R4(339, "iq4_k_r4", 256, 144, 0, () -> Iq4KR4Codec.INSTANCE),
    IQ5_K_R4(340, "iq5_k_r4", 256, 176, 0, null),
    IQ4_KS_R4(344, "iq4_ks_r4", 256, 136, 4, null),
    IQ5_KS_R4(352, "iq5_ks_r4", 256, 168, 4, null),
    MXFP4_R8(353, "mxfp4_r8", 32, 17, 0, null),

    // panllama's own. ggml has no FP8 type; ids from 1000 up collide with neither mainline (< 64) nor
    // ik_llama.cpp (< 400). An F8_E4M3 weight comes with an F32 scale tensor (README, "FP8 GGUF").
    F8_E4M3(1000, "f8_e4m3", 1, 1, 0, () -> F8E4M3Codec.INSTANCE);

    private static final Map<Integer, GgmlType> BY_ID = new HashMap<>();
    private static final Map<String, GgmlType> BY_NAME = new HashMap<>();

    static {
        for (GgmlType t : values()) {
            BY_ID.put(t.id, t);
            BY_NAME.put(t.name().toLowerCase(Locale.ROOT), t);
            BY_NAME.put(t.ggmlName.toLowerCase(Locale.ROOT), t);
        }
    }

    private final int id;
    private final String ggmlName;
    private final int blockSize;
    private final int typeSize;
    private final int rowMetaSize;
    private final Supplier<BlockCodec> codecSupplier;
    private final int interleavedRows;

    GgmlType(int id, String ggmlName, int blockSize, int typeSize, int rowMetaSize, Supplier<BlockCodec> codec) {
        this.id = id;
        this.ggmlName = ggmlName;
        // ik_llama.cpp names its row-interleaved types by the rows a group holds: q4_0_r8, iq4_k_r4, bf16_r16
        java.util.regex.Matcher r = java.util.regex.Pattern.compile("_r(\\d+)$").matcher(ggmlName);
        this.interleavedRows = r.find() ? Integer.parseInt(r.group(1)) : 1;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
        this.rowMetaSize = rowMetaSize;
        this.codecSupplier = codec;
    }

    /** The id written in GGUF tensor infos. */
    public int id() { return id; }

    /** ggml's lower-case name (e.g. {@code q4_K}). */
    public String ggmlName() { return ggmlName; }

    public int blockSize() { return blockSize; }

    /** Bytes per block. */
    public int typeSize() { return typeSize; }

    /** Bytes stored at the start of each row before its blocks (ik_llama.cpp's row scales); 0 for ggml's types. */
    public int rowMetaSize() { return rowMetaSize; }

    /**
     * Rows stored interleaved block by block (ik_llama.cpp's _R4, _R8 and _R16 types, see
     * {@link RowGroupCodec}); 1 for every other type. Tensors of these types have a multiple of this
     * many rows, and their codec is a {@link RowGroupCodec}.
     */
    public int interleavedRows() {
        return interleavedRows;
    }

    /** Bytes of one row of {@code ne0} elements; ne0 must be a multiple of the block size. */
    public long rowBytes(long ne0) {
        if (ne0 % blockSize != 0) {
            throw new IllegalArgumentException(name() + " rows must be a multiple of " + blockSize + " elements, not " + ne0);
        }
        return Math.addExact(rowMetaSize, Math.multiplyExact(ne0 / blockSize, (long) typeSize));
    }

    /** Average bits per weight of a row of {@code ne0} elements, row metadata included. */
    public double bitsPerWeight(long ne0) {
        return 8.0 * rowBytes(ne0) / ne0;
    }

    public boolean hasCodec() { return codecSupplier != null; }

    /** The scalar codec; fails with a message naming the type when panllama cannot decode it yet. */
    public BlockCodec codec() {
        if (codecSupplier == null) {
            throw new UnsupportedOperationException("tensor type " + name() + " (id " + id + ") cannot be decoded by this version of panllama");
        }
        return codecSupplier.get();
    }

    /** The type with this file id, or null when no type has it. */
    public static GgmlType byId(long id) {
        return id < 0 || id > Integer.MAX_VALUE ? null : BY_ID.get((int) id);
    }

    /** The type named {@code name} (enum name or ggml name, any case), or null. */
    public static GgmlType byName(String name) {
        return BY_NAME.get(name.toLowerCase(Locale.ROOT));
    }
}
