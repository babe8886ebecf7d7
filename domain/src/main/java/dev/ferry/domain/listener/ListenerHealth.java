package dev.ferry.domain.listener;

import java.util.List;

/**
 * Whether a listener can make progress right now, and if not, why ({@link Listener#health()}).
 *
 * @param ready    running, its pollers alive and polling, its ledger answering
 * @param problems what stands in the way, in words; empty when ready
 */
public record ListenerHealth(boolean ready, List<String> problems) {

    public ListenerHealth {
        problems = List.copyOf(problems);
    }

    static ListenerHealth of(List<String> problems) {
        return new ListenerHealth(problems.isEmpty(), problems);
    }
}
