package dev.ferry.app;

import java.util.ArrayList;
import java.util.Optional;
import picocli.CommandLine.UnmatchedArgumentException;

/** "Did you mean ...?" for an option or command the user mistyped: the known names nearest to it. */
final class Suggestions {

    private Suggestions() {
    }

    /** The names nearest to the first unknown argument, when one is near enough to be a typo. */
    static Optional<String> closest(UnmatchedArgumentException e) {
        if (e.getUnmatched().isEmpty()) {
            return Optional.empty();
        }
        String typed = e.getUnmatched().getFirst();
        var spec = e.getCommandLine().getCommandSpec();
        var known = new ArrayList<String>();
        if (typed.startsWith("-")) {
            String name = typed.contains("=") ? typed.substring(0, typed.indexOf('=')) : typed;
            spec.options().stream().filter(o -> !o.hidden()).forEach(o -> known.addAll(java.util.List.of(o.names())));
            return nearest(name, known);
        }
        known.addAll(spec.subcommands().keySet());
        return nearest(typed, known);
    }

    private static Optional<String> nearest(String typed, java.util.List<String> known) {
        int best = Integer.MAX_VALUE;
        var found = new ArrayList<String>();
        for (String name : known) {
            int d = distance(typed, name);
            if (d < best) {
                best = d;
                found.clear();
            }
            if (d == best) {
                found.add(name);
            }
        }
        int allowed = Math.max(2, typed.length() / 3);
        return best <= allowed && !found.isEmpty() ? Optional.of(String.join(" or ", found)) : Optional.empty();
    }

    /** Edits (insert, delete, substitute, swap two neighbours) that turn {@code a} into {@code b}. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
