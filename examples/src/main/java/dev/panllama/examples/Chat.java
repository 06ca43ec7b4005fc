package dev.panllama.examples;

import dev.panllama.generate.Completion;
import dev.panllama.generate.CompletionSettings;
import dev.panllama.chat.Conversation;
import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.sampling.SamplerParams;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A multi-turn chat: the model's own chat template (ChatML when its file has none) formats the
 * conversation, each reply streams as it is generated, and the KV cache is kept between turns, so each
 * turn evaluates only the new message. Every argument after the model is one user turn:
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp ... \
 *      dev.panllama.examples.Chat models/stories260K.gguf "Once upon a time" "What happened next?"
 * </pre>
 */
public final class Chat {
    private Chat() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: Chat MODEL.gguf MESSAGE [MESSAGE...]");
            System.exit(2);
        }
        run(Path.of(args[0]), "You are a helpful assistant.", Arrays.asList(args).subList(1, args.length), 48, System.out);
    }

    static void run(Path modelFile, String system, List<String> turns, int tokensPerReply, PrintStream out) throws Exception {
        try (Model model = Model.load(modelFile, ModelOptions.DEFAULTS.withThreads(2).withContextLength(1024));
             Conversation chat = Conversation.start(model)) {
            out.println("(chat template: " + chat.format().template().description() + ")");
            chat.system(system);
            CompletionSettings greedy = CompletionSettings.of(tokensPerReply, SamplerParams.GREEDY);
            for (String turn : turns) {
                out.println("user: " + turn);
                out.print("assistant: ");
                Completion.Result reply = chat.send(turn, greedy, text -> {
                    out.print(text);
                    return true;            // false would stop the reply here
                });
                out.println();
                out.printf("(%d prompt tokens, %d of them from the cache; %d generated)%n",
                        reply.promptTokens(), reply.cachedTokens(), reply.completionTokens());
            }
        }
    }
}
