package dev.panllama.tokenizer;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The BPE pre-tokenizers llama.cpp knows ({@code tokenizer.ggml.pre}), with the split regexes it runs
 * for each, as of llama.cpp c392e50 (src/llama-vocab.cpp). The GPT-2 and Llama-3 expressions run as
 * hand-written splitters, as in llama.cpp; the others through {@link RegexSplit}.
 */
enum BpePreType {
    DEFAULT(() -> List.of(
            new RegexSplit("[\\p{P}\\$\\+<=>\\^~\\|]+"),
            new Gpt2Split(),
            new RegexSplit("\\p{N}+"),
            new RegexSplit("[0-9][0-9][0-9]"))),
    LLAMA3(Regexes::llama3),
    DEEPSEEK_LLM(() -> List.of(
            new RegexSplit("[\r\n]"),
            new RegexSplit(Regexes.DEEPSEEK_LLM_LETTERS),
            new RegexSplit("\\s?[!-/:-~！-／：-～‘-‟　-。]+"),
            new RegexSplit("\\s+$"),
            new RegexSplit("[一-龥ࠀ-一가-퟿]+"),
            new RegexSplit("\\p{N}+"))),
    DEEPSEEK_CODER(() -> List.of(
            new RegexSplit("[\r\n]"),
            new RegexSplit("\\s?\\p{L}+"),
            new RegexSplit("\\s?\\p{P}+"),
            new RegexSplit("[一-龥ࠀ-一가-퟿]+"),
            new RegexSplit("\\p{N}"))),
    DEEPSEEK3_LLM(() -> List.of(
            new RegexSplit("\\p{N}{1,3}"),
            new RegexSplit("[一-龥぀-ゟ゠-ヿ]+"),
            new RegexSplit("[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
                    + "| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"))),
    FALCON(() -> List.of(
            new RegexSplit("[\\p{P}\\$\\+<=>\\^~\\|`]+"),
            new Gpt2Split(),
            new RegexSplit("[0-9][0-9][0-9]"))),
    /** starcoder, refact, command-r, smollm, codeshell, exaone, minerva: digits one by one, then GPT-2. */
    STARCODER(() -> List.of(new RegexSplit("\\p{N}"), new Gpt2Split())),
    /** gpt-2, mpt, olmo, jais. */
    GPT2(() -> List.of(new Gpt2Split())),
    /** qwen2, stablelm2. */
    QWEN2(() -> List.of(new RegexSplit(
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
                    + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"))),
    /** poro-chat, bloom, gpt3-finnish. */
    BLOOM(() -> List.of(new RegexSplit(Regexes.BLOOM))),
    VIKING(() -> List.of(new RegexSplit(Regexes.BLOOM), new RegexSplit("\\p{N}"))),
    TEKKEN(() -> List.of(new RegexSplit(
            "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+"
                    + "((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"))),
    CHAMELEON(() -> List.of(
            new RegexSplit("<sentinel:[0-9]+>"),
            new RegexSplit("(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z"),
            new RegexSplit("([\\t\\n]|    |  )"),
            new RegexSplit("\\p{N}"),
            new RegexSplit("[\\p{P}!-/:-@\\[-`{-~]"),
            new Gpt2Split()));

    private final Supplier<List<SplitPass>> passes;

    BpePreType(Supplier<List<SplitPass>> passes) {
        this.passes = passes;
    }

    List<SplitPass> passes() {
        return passes.get();
    }

    /** How a {@code tokenizer.ggml.pre} name sets up the vocabulary, beyond the BPE defaults. */
    record Setup(BpePreType type, boolean cleanSpaces, boolean ignoreMerges, boolean addBos, boolean noDefaultBos) {}

    private static Setup setup(BpePreType type) { return new Setup(type, true, false, false, false); }

    private static Setup keepSpaces(BpePreType type) { return new Setup(type, false, false, false, false); }

    private static final Map<String, Setup> BY_NAME = Map.ofEntries(
            Map.entry("default", setup(DEFAULT)),
            Map.entry("llama3", new Setup(LLAMA3, true, true, true, false)),
            Map.entry("llama-v3", new Setup(LLAMA3, true, true, true, false)),
            Map.entry("llama-bpe", new Setup(LLAMA3, true, true, true, false)),
            Map.entry("falcon3", new Setup(LLAMA3, true, true, true, false)),
            Map.entry("deepseek-llm", keepSpaces(DEEPSEEK_LLM)),
            Map.entry("deepseek-coder", keepSpaces(DEEPSEEK_CODER)),
            Map.entry("deepseek-v3", keepSpaces(DEEPSEEK3_LLM)),
            Map.entry("falcon", setup(FALCON)),
            Map.entry("mpt", setup(GPT2)),
            Map.entry("starcoder", setup(STARCODER)),
            Map.entry("gpt-2", setup(GPT2)),
            Map.entry("phi-2", setup(GPT2)),
            Map.entry("jina-es", setup(GPT2)),
            Map.entry("jina-de", setup(GPT2)),
            Map.entry("gigachat", setup(GPT2)),
            Map.entry("jina-v1-en", setup(GPT2)),
            Map.entry("jina-v2-es", setup(GPT2)),
            Map.entry("jina-v2-de", setup(GPT2)),
            Map.entry("jina-v2-code", setup(GPT2)),
            Map.entry("roberta-bpe", setup(GPT2)),
            Map.entry("refact", setup(STARCODER)),
            Map.entry("command-r", keepSpaces(STARCODER)),
            Map.entry("qwen2", keepSpaces(QWEN2)),
            Map.entry("deepseek-r1-qwen", keepSpaces(QWEN2)),
            Map.entry("stablelm2", setup(QWEN2)),
            Map.entry("olmo", setup(GPT2)),
            Map.entry("dbrx", setup(LLAMA3)),
            Map.entry("smaug-bpe", setup(LLAMA3)),
            Map.entry("poro-chat", keepSpaces(BLOOM)),
            Map.entry("chatglm-bpe", new Setup(LLAMA3, true, false, false, true)),
            Map.entry("viking", keepSpaces(VIKING)),
            Map.entry("jais", setup(GPT2)),
            Map.entry("tekken", new Setup(TEKKEN, false, true, true, false)),
            Map.entry("smollm", keepSpaces(STARCODER)),
            Map.entry("codeshell", setup(STARCODER)),
            Map.entry("bloom", setup(BLOOM)),
            Map.entry("gpt3-finnish", setup(BLOOM)),
            Map.entry("exaone", setup(STARCODER)),
            Map.entry("chameleon", new Setup(CHAMELEON, false, false, true, false)),
            Map.entry("minerva-7b", setup(STARCODER)),
            Map.entry("megrez", setup(QWEN2)));

    /** The setup for a pre-tokenizer name, or null when llama.cpp does not know it. */
    static Setup forName(String name) {
        return BY_NAME.get(name);
    }

    private static final class Regexes {
        static final String BLOOM = " ?[^(\\s|.,!?…。，、।۔،)]+";
        /** DeepSeek LLM's letter class, from its tokenizer.json as llama.cpp carries it. */
        static final String DEEPSEEK_LLM_LETTERS = "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+";

        static List<SplitPass> llama3() {
            return List.of(new Llama3Split());
        }
    }
}
