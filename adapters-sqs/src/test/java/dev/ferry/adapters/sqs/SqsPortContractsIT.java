package dev.ferry.adapters.sqs;

import dev.ferry.domain.contract.SinkContract;
import dev.ferry.domain.contract.SourceContract;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.Sink;
import dev.ferry.domain.transport.Source;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.extension.ExtendWith;

/** The sink and source promises every transport keeps, kept by the SQS adapter on ElasticMQ. */
@ExtendWith(ElasticMq.class)
class SqsPortContractsIT {

    @Nested
    class AsSink extends SinkContract {
        @Override
        protected SinkFixture newFixture() {
            var q = SqsFixture.create(ElasticMq.client(), false, 1000);
            var seen = new ArrayList<String>();
            return new SinkFixture() {
                @Override
                public Sink sink() {
                    return q.sink();
                }

                @Override
                public List<String> received(int count) {
                    long end = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
                    while (seen.size() < count && System.nanoTime() < end) {
                        q.client.receiveMessage(b -> b.queueUrl(q.url).maxNumberOfMessages(10).waitTimeSeconds(1)
                                .visibilityTimeout(60)).messages().forEach(m -> seen.add(m.body()));
                    }
                    return List.copyOf(seen);
                }

                @Override
                public void close() {
                    q.close();
                }
            };
        }
    }

    @Nested
    class AsSource extends SourceContract {
        @Override
        protected SourceFixture newFixture() {
            var q = SqsFixture.create(ElasticMq.client(), false, 1000);
            return new SourceFixture() {
                @Override
                public Source source() {
                    return q.source();
                }

                @Override
                public Acknowledger acknowledger() {
                    return q.acknowledger();
                }

                @Override
                public void offer(String body) {
                    q.send(body, Map.of(), null);
                }

                @Override
                public void close() {
                    q.close();
                }
            };
        }
    }
}
