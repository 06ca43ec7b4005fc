package dev.panllama.cli;

import dev.panllama.gguf.MappedFiles;
import picocli.CommandLine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/**
 * Turns a failed command into one line on stderr and exit code 1: the user sees what is wrong and
 * where, never a stack trace (set PANLLAMA_DEBUG=1 to see one).
 */
final class CliErrors implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parsed) {
        cmd.getErr().println("panllama " + cmd.getCommandName() + ": error: " + describe(ex));
        if (System.getenv("PANLLAMA_DEBUG") != null) ex.printStackTrace(cmd.getErr());
        cmd.getErr().flush();
        return 1;
    }

    static String describe(Throwable ex) {
        if (ex instanceof UncheckedIOException u) ex = u.getCause();
        if (MappedFiles.isMappedReadFault(ex)) return MappedFiles.describeFault();
        return switch (ex) {
            case NoSuchFileException e -> e.getFile() + ": no such file";
            case AccessDeniedException e -> e.getFile() + ": permission denied";
            case IOException e when e.getMessage() != null -> e.getMessage();
            case OutOfMemoryError e -> "out of memory (" + e.getMessage() + "); try a smaller context (-c) or batch (-b)";
            default -> ex.getMessage() != null ? ex.getMessage() : ex.getClass().getSimpleName();
        };
    }
}
