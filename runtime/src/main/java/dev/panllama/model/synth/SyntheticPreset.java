package dev.panllama.model.synth;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Named model shapes for {@code panllama synth}, taken from real models so that speed measured on
 * random weights carries over. Every row length is a multiple of 256, so every block type applies,
 * except deepseek2's attn_k_b (rows of nope values), which is F16 where the type's blocks do not fit.
 */
public enum SyntheticPreset {
    /**
     * A few MB, for tests: 256 wide, 2 layers, head size 64; 8 experts of 256 (2 used) on MoE
     * architectures. For deepseek2: the zoo's shapes (4 heads, q_lora and kv_lora 256, nope 64, rope 32,
     * v 64), 3 layers with the first dense, 8 experts of 256 in 4 groups (2 used), 1 shared, YaRN.
     */
    TINY("tiny", new SyntheticShape(256, 768, 4, 2, 64, 2, 8, 2, 256, 2048, 10000f, 1e-5f),
            new Deepseek2Shape(256, 768, 4, 256, 256, 64, 32, 64, 3, 1, 8, 2, 256, 1, 4, 2, 2.5f,
                    2048, 10000f, 1e-5f, 4f, 512, 0.1f)),
    /** The bench-1b model of the reference speed anchors (with the Llama-2 vocab: 1.10 B parameters). */
    B1("1b", new SyntheticShape(2048, 8192, 32, 8, 64, 16, 0, 0, 0, 4096, 10000f, 1e-5f), null),
    /** Llama-3-8B's shapes. */
    B8("8b", new SyntheticShape(4096, 14336, 32, 8, 128, 32, 0, 0, 0, 8192, 500000f, 1e-5f), null),
    /** Qwen3-30B-A3B's layer shapes with fewer layers and experts (16 layers, 64 experts of 768, 8 used). */
    MOE("moe", new SyntheticShape(2048, 6144, 32, 4, 128, 16, 64, 8, 768, 32768, 1000000f, 1e-6f), null),
    /**
     * DeepSeek-V3's layer shapes (deepseek2 only): n_embd 7168, 128 heads, q_lora 1536, kv_lora 512,
     * nope 128, rope 64, v 128; 256 experts of 2048 in 8 groups (4 used), 8 used, 1 shared, sigmoid
     * routing scaled by 2.5; YaRN factor 40 from 4096. The first layer is dense (n_ff 18432; V3 has 3),
     * so that a few layers already hold mostly experts. 61 layers by default, as V3; pick fewer with --layers.
     */
    V3("v3", null, new Deepseek2Shape(7168, 18432, 128, 1536, 512, 128, 64, 128, 61, 1, 256, 8, 2048, 1, 8, 4, 2.5f,
            163840, 10000f, 1e-6f, 40f, 4096, 0.1f));

    private final String cliName;
    private final SyntheticShape shape;
    private final Deepseek2Shape deepseek2Shape;

    SyntheticPreset(String cliName, SyntheticShape shape, Deepseek2Shape deepseek2Shape) {
        this.cliName = cliName;
        this.shape = shape;
        this.deepseek2Shape = deepseek2Shape;
    }

    /** The name used on the command line. */
    public String cliName() { return cliName; }

    /** The llama-family shape, or null for a deepseek2-only preset. */
    public SyntheticShape shape() { return shape; }

    /** The deepseek2 shape, or null for a preset that has none. */
    public Deepseek2Shape deepseek2Shape() { return deepseek2Shape; }

    public static SyntheticPreset byName(String name) {
        for (SyntheticPreset p : values()) if (p.cliName.equals(name.toLowerCase(Locale.ROOT))) return p;
        throw new IllegalArgumentException("unknown preset '" + name + "' (presets: "
                + Arrays.stream(values()).map(SyntheticPreset::cliName).collect(Collectors.joining(", ")) + ")");
    }
}
