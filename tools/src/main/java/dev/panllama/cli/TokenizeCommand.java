package dev.panllama.cli;

import dev.panllama.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.StringJoiner;

/**
 * {@code panllama tokenize}: what llama-tokenize prints. Only the model's metadata is read, so
 * vocab-only GGUF files work. A piece that is not whole UTF-8 (part of a character split over byte
 * tokens) is printed as its bytes in hex, as llama-tokenize does on consoles that need valid UTF-8.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Tokenize a prompt with a model's tokenizer and print the tokens (like llama-tokenize).",
                "Output: one line per token, '   ID -> 'PIECE'', or with --ids a list [1, 2, 3]."})
final class TokenizeCommand extends ToolCommand {

    @Option(names = {"-m", "--model"}, paramLabel = "FILE",
            description = "GGUF model or vocab-only file (default: the bundled stories260K.gguf)")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Prompt prompt;

    static final class Prompt {
        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", required = true, description = "The text to tokenize")
        String text;

        @Option(names = {"-f", "--file"}, paramLabel = "FILE", required = true, description = "Read the text from a file (bytes as they are)")
        Path file;
    }

    @Option(names = "--ids", description = "Print only the token ids, as [1, 2, 3]")
    boolean ids;

    @Option(names = "--no-bos", description = "Add no BOS (or other special) token, even if the model asks for one")
    boolean noBos;

    @Option(names = "--parse-special", description = "Turn control-token texts in the prompt (e.g. <s>) into those tokens")
    boolean parseSpecial;

    @Option(names = "--show-count", description = "Print the total number of tokens")
    boolean showCount;

    @Override
    int run(PrintWriter out, PrintWriter err) throws Exception {
        Path path = model != null ? model : BundledModel.path();
        CliFiles.requireInput(path, "a GGUF file", false);
        byte[] text = prompt.file != null ? CliFiles.readBytes(prompt.file) : prompt.text.getBytes(StandardCharsets.UTF_8);
        Tokenizer tokenizer = Tokenizer.fromFile(path);
        // llama-tokenize passes add_special = the model's add_bos unless --no-bos
        int[] tokens = tokenizer.encode(text, tokenizer.addBos() && !noBos, parseSpecial);

        if (ids) {
            StringJoiner list = new StringJoiner(", ", "[", "]");
            for (int t : tokens) list.add(Integer.toString(t));
            out.println(list);
        } else {
            for (int t : tokens) out.printf("%6d -> %s%n", t, shown(tokenizer.tokenToPiece(t, true)));
        }
        if (showCount) out.println("Total number of tokens: " + tokens.length);
        out.flush();
        return 0;
    }

    private static String shown(byte[] piece) {
        try {
            String s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(piece)).toString();
            return "'" + s + "'";
        } catch (CharacterCodingException e) {
            return "'<" + HexFormat.ofDelimiter(" ").formatHex(piece) + ">' (utf-8 decode failure)";
        }
    }
}
