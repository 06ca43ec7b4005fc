package dev.panllama.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * What this CLI was built from: the version and, when built from a git clone, the commit (the build
 * writes build.properties with git-commit-id-maven-plugin). For --version and llama-bench's build_commit.
 */
record BuildInfo(String version, String commit, String commitTime, boolean dirty, String buildTime) {

    static BuildInfo load() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
            if (in != null) p.load(in);
        } catch (IOException ignored) {
            // unreadable: a development build
        }
        return new BuildInfo(p.getProperty("git.build.version", BuildInfo.class.getPackage().getImplementationVersion()),
                p.getProperty("git.commit.id.abbrev"), p.getProperty("git.commit.time"), "true".equals(p.getProperty("git.dirty")),
                p.getProperty("git.build.time"));
    }

    /** llama-bench's build_commit: the commit, with "-dirty" for local changes, or "unknown". */
    String benchCommit() {
        return commit == null ? "unknown" : commit + (dirty ? "-dirty" : "");
    }

    /** The --version lines. */
    String[] versionLines() {
        String first = "panllama " + (version != null ? version : "(development build)")
                + (commit != null ? " (commit " + commit + " of " + commitTime + (dirty ? ", with local changes" : "") + ")" : "");
        return new String[]{first,
                (buildTime != null ? "built " + buildTime + ", " : "") + "running on Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"};
    }
}
