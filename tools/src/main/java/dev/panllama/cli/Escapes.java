package dev.panllama.cli;

/** llama.cpp's -e (string_process_escapes): \n, \r, \t, \', \", \\ and \xHH in a prompt typed on a command line. */
final class Escapes {
    private Escapes() {}

    static String process(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 == s.length()) {
                out.append(c);
                continue;
            }
            char e = s.charAt(++i);
            switch (e) {
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case '\'', '"', '\\' -> out.append(e);
                case 'x' -> {
                    if (i + 2 < s.length() + 0 && isHex(s.charAt(i + 1)) && i + 2 < s.length() && isHex(s.charAt(i + 2))) {
                        out.append((char) Integer.parseInt(s.substring(i + 1, i + 3), 16));
                        i += 2;
                    } else {
                        out.append('\\').append('x');
                    }
                }
                default -> out.append('\\').append(e);
            }
        }
        return out.toString();
    }

    private static boolean isHex(char c) {
        return Character.digit(c, 16) >= 0;
    }
}
