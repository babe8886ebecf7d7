package dev.ferry.domain.memory;

import dev.ferry.domain.contract.SinkContract;
import dev.ferry.domain.contract.SourceContract;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.Sink;
import dev.ferry.domain.transport.Source;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Nested;

/** The in-memory queue keeps the same sink and source promises as the real transports. */
class InMemoryPortContractsTest {

    @Nested
    class AsSink extends SinkContract {
        @Override
        protected SinkFixture newFixture() {
            var queue = InMemoryQueue.standard("sink-contract");
            return new SinkFixture() {
                @Override
                public Sink sink() {
                    return queue;
                }

                @Override
                public boolean keepsGroupOrder() {
                    return true;
                }

                @Override
                public List<String> received(int count) {
                    Await.until(Duration.ofSeconds(10), () -> queue.size() >= count);
                    return queue.messages().stream().map(InMemoryQueue.Stored::body).toList();
                }

                @Override
                public void close() {
                    queue.close();
                }
            };
        }
    }

    @Nested
    class AsSource extends SourceContract {
        @Override
        protected SourceFixture newFixture() {
            var queue = InMemoryQueue.standard("source-contract");
            return new SourceFixture() {
                @Override
                public Source source() {
                    return queue;
                }

                @Override
                public Acknowledger acknowledger() {
                    return queue;
                }

                @Override
                public void offer(String body) {
                    queue.send(body);
                }

                @Override
                public void close() {
                    queue.close();
                }
            };
        }
    }
}
