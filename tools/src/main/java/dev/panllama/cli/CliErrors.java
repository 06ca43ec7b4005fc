package dev.panllama.cli;

import dev.panllama.gguf.MappedFiles;
import picocli.CommandLine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/**
 * Turns a failed command into one line on stderr and exit code 1: the user sees what is wrong and
 * where, never a stack trace (set PANLLAMA_DEBUG=1 to see one). Errors arrive here too, wrapped in
 * picocli's ExecutionException by {@link Main}'s execution strategy.
 */
final class CliErrors implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parsed) {
        Throwable failure = ex instanceof CommandLine.ExecutionException && ex.getCause() instanceof Error e ? e : ex;
        cmd.getErr().println("panllama " + cmd.getCommandName() + ": error: " + describe(failure));
        if (System.getenv("PANLLAMA_DEBUG") != null) failure.printStackTrace(cmd.getErr());
        cmd.getErr().flush();
        return 1;
    }

    static String describe(Throwable ex) {
        if (ex instanceof UncheckedIOException u) ex = u.getCause();
        if (MappedFiles.isMappedReadFault(ex)) return MappedFiles.describeFault();
        return switch (ex) {
            case NoSuchFileException e -> e.getFile() + ": no such file";
            case AccessDeniedException e -> e.getFile() + ": permission denied";
            // e.g. "Is a directory", "Not a directory", "Read-only file system", with the file they concern
            case FileSystemException e when e.getFile() != null && e.getReason() != null && e.getOtherFile() == null ->
                    e.getFile() + ": " + e.getReason();
            case IOException e when e.getMessage() != null -> e.getMessage();
            case OutOfMemoryError e -> outOfMemory(e);
            case StackOverflowError e -> "stack overflow (nesting too deep); PANLLAMA_DEBUG=1 shows where";
            // a bug rather than bad input: name the class, which is all some of these carry
            case Error e -> "internal error: " + e + "; PANLLAMA_DEBUG=1 shows where";
            default -> ex.getMessage() != null ? ex.getMessage()
                    : "internal error: " + ex.getClass().getSimpleName() + "; PANLLAMA_DEBUG=1 shows where";
        };
    }

    /** Off-heap memory (the KV cache, --no-mmap weights) is not the Java heap: only a heap shortage is helped by -Xmx. */
    private static String outOfMemory(OutOfMemoryError e) {
        String what = e.getMessage() != null ? e.getMessage() : "no detail";
        if (what.startsWith("Unable to allocate")) return "out of memory (" + what + " of native memory); try a smaller context (-c)";
        return "out of memory (" + what + "); try a smaller context (-c) or batch (-b), or a larger Java heap (PANLLAMA_JAVA_OPTS=-Xmx...)";
    }
}
