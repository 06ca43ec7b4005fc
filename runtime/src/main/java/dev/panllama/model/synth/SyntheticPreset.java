package dev.panllama.model.synth;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Named model shapes for {@code panllama synth}, taken from real models so that speed measured on
 * random weights carries over. Every row length is a multiple of 256, so every block type applies.
 */
public enum SyntheticPreset {
    /** A few MB, for tests: 256 wide, 2 layers, head size 64; 8 experts of 256 (2 used) on MoE architectures. */
    TINY("tiny", new SyntheticShape(256, 768, 4, 2, 64, 2, 8, 2, 256, 2048, 10000f, 1e-5f)),
    /** The bench-1b model of the reference speed anchors (with the Llama-2 vocab: 1.10 B parameters). */
    B1("1b", new SyntheticShape(2048, 8192, 32, 8, 64, 16, 0, 0, 0, 4096, 10000f, 1e-5f)),
    /** Llama-3-8B's shapes. */
    B8("8b", new SyntheticShape(4096, 14336, 32, 8, 128, 32, 0, 0, 0, 8192, 500000f, 1e-5f)),
    /** Qwen3-30B-A3B's layer shapes with fewer layers and experts (16 layers, 64 experts of 768, 8 used). */
    MOE("moe", new SyntheticShape(2048, 6144, 32, 4, 128, 16, 64, 8, 768, 32768, 1000000f, 1e-6f));

    private final String cliName;
    private final SyntheticShape shape;

    SyntheticPreset(String cliName, SyntheticShape shape) {
        this.cliName = cliName;
        this.shape = shape;
    }

    /** The name used on the command line. */
    public String cliName() { return cliName; }

    public SyntheticShape shape() { return shape; }

    public static SyntheticPreset byName(String name) {
        for (SyntheticPreset p : values()) if (p.cliName.equals(name.toLowerCase(Locale.ROOT))) return p;
        throw new IllegalArgumentException("unknown preset '" + name + "' (presets: "
                + Arrays.stream(values()).map(SyntheticPreset::cliName).collect(Collectors.joining(", ")) + ")");
    }
}
