package dev.ferry.domain.contract;

import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.Sink;
import dev.ferry.domain.transport.Source;
import java.util.List;
import java.util.Map;

/** One queue (with a dead-letter destination) under test, as {@link QueueContract} sees it. */
public interface QueueFixture extends AutoCloseable {

    Source source();

    Acknowledger acknowledger();

    /** A sink that writes to this same queue. */
    Sink sink();

    /** Sends a message by the transport's own client; {@code groupId} only on FIFO queues. */
    void send(String body, Map<String, String> attributes, String groupId);

    /** Messages in the dead-letter destination: body and the recorded reason. */
    List<DeadLetter> deadLetters();

    record DeadLetter(String body, String reason) {
    }

    @Override
    void close();
}
