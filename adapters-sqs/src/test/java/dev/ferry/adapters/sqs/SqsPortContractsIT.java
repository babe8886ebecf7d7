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

    /** A sink on a new queue, FIFO or standard, with what reached the queue in the order it hands it out. */
    private static SinkContract.SinkFixture sinkFixture(boolean fifo) {
        var q = SqsFixture.create(ElasticMq.client(), fifo, 1000);
        var seen = new ArrayList<String>();
        return new SinkContract.SinkFixture() {
            @Override
            public Sink sink() {
                return q.sink();
            }

            @Override
            public List<String> received(int count) {
                long end = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
                while (seen.size() < count && System.nanoTime() < end) {
                    for (var m : q.client.receiveMessage(b -> b.queueUrl(q.url).maxNumberOfMessages(10).waitTimeSeconds(1)
                            .visibilityTimeout(60)).messages()) {
                        seen.add(m.body());
                        // taken: a FIFO group hands out no more while any of it is in flight
                        q.client.deleteMessage(b -> b.queueUrl(q.url).receiptHandle(m.receiptHandle()));
                    }
                }
                return List.copyOf(seen);
            }

            @Override
            public boolean keepsGroupOrder() {
                return fifo; // a standard queue promises no order
            }

            @Override
            public void close() {
                q.close();
            }
        };
    }

    @Nested
    class AsSink extends SinkContract {
        @Override
        protected SinkFixture newFixture() {
            return sinkFixture(false);
        }
    }

    @Nested
    class AsFifoSink extends SinkContract {
        @Override
        protected SinkFixture newFixture() {
            return sinkFixture(true);
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
