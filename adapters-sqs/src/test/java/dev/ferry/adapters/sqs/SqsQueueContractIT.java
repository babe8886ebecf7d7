package dev.ferry.adapters.sqs;

import dev.ferry.domain.contract.QueueContract;
import dev.ferry.domain.contract.QueueFixture;
import java.time.Duration;
import org.junit.jupiter.api.extension.ExtendWith;

/** The promises the in-memory queue keeps, kept by the SQS adapter on a real SQS server. */
@ExtendWith(ElasticMq.class)
class SqsQueueContractIT extends QueueContract {

    @Override
    protected QueueFixture standardQueue() {
        return SqsFixture.create(ElasticMq.client(), false, 1000);
    }

    @Override
    protected QueueFixture fifoQueue() {
        return SqsFixture.create(ElasticMq.client(), true, 1000);
    }

    @Override
    protected Duration leaseUnit() {
        return Duration.ofSeconds(1);
    }
}
