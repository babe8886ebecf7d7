package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A {@code ledger-scope} written as another source's name joins that source's default scope: an id both carry is
 * handled once. Only one of the two sections says so; the start warns of it (a copy-paste, a renamed source).
 */
class LedgerScopesTest {

    @Test
    void aScopeThatIsAnotherSourcesName_isWarnedOf_namingBoth() {
        var borrowed = SinkCallsTest.read("""
                sources:
                  orders: {sqs: {queue: orders}}
                  refunds: {sqs: {queue: refunds}, ledger-scope: orders}
                """ + SinkCallsTest.HTTP);
        assertThat(borrowed.config().sources().get("refunds").ledgerScope()).isEqualTo("orders");
        assertThat(borrowed.warnings()).singleElement().asString()
                .contains("source 'refunds' has ledger-scope: orders, the name of source 'orders'")
                .contains("write ledger-scope: orders on source 'orders' too");
    }

    @Test
    void scopesBothSectionsSay_orASharedFormatsSourceName_areNotWarnedOf() {
        // both name the scope: what docs/config.md says to write for sources that carry the same events
        assertThat(warningsOf("""
                  orders: {sqs: {queue: orders}, ledger-scope: orders}
                  refunds: {sqs: {queue: refunds}, ledger-scope: orders}
                """)).isEmpty();
        // 'docs' reads S3 notifications: its own default scope is the shared one, not its name
        assertThat(warningsOf("""
                  docs: {sqs: {queue: docs}, format: s3}
                  refunds: {sqs: {queue: refunds}, ledger-scope: docs}
                """)).isEmpty();
        // a scope of its own name, or shared
        assertThat(warningsOf("""
                  orders: {sqs: {queue: orders}, ledger-scope: orders}
                  refunds: {sqs: {queue: refunds}, ledger-scope: shared}
                """)).isEmpty();
        // a review: a source named 'shared' is not the scope 'shared' another one writes
        assertThat(warningsOf("""
                  shared: {sqs: {queue: orders}}
                  refunds: {sqs: {queue: refunds}, ledger-scope: shared}
                """)).isEmpty();
    }

    /** The start's warnings for these sources (YAML lines under {@code sources:}), with an HTTP sink and a route. */
    private static java.util.List<String> warningsOf(String sources) {
        return SinkCallsTest.read("sources:\n" + sources + SinkCallsTest.HTTP).warnings();
    }
}
