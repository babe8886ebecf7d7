package dev.ferry.adapters.http;

import java.util.regex.Pattern;

/**
 * A dead letter's reason as the HTTP source tells its caller: why its event was refused, without what names the
 * service behind it. A sink's refusal or outage is in the reason word for word — an endpoint's host and error body, an
 * SQS or DynamoDB answer naming an IAM role, the account and the queue ("User: arn:aws:sts::123456789012:assumed-role/
 * ..."): told to a partner, or anyone who reaches an {@code auth: none} port. The health endpoints leave these out for
 * the same reason; the log, the console and the dead letter keep them whole.
 */
final class CallerReasons {

    /**
     * What an endpoint answered, after its status, to the end: its error body may echo a credential or another's data,
     * and hold a ';' of its own ("could not execute statement; SQL [insert ...]").
     */
    private static final Pattern ANSWERED = Pattern.compile("(answered HTTP \\d{3})(: a credential problem \\([^)]*\\))?: .*",
            Pattern.DOTALL);
    /** A URL: the host and port of a service inside. */
    private static final Pattern URL = Pattern.compile("\\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\\s;,'\"()<>]+");
    /** An Amazon Resource Name: its partition kept, the rest (region, account, resource) not. */
    private static final Pattern ARN = Pattern.compile("\\barn:(aws[a-z-]*):[^\\s,;'\"()\\[\\]{}<>]*");
    /** An AWS account id, alone or in a queue URL's path. */
    private static final Pattern ACCOUNT = Pattern.compile("(?<![0-9A-Za-z])[0-9]{12}(?![0-9A-Za-z])");

    private CallerReasons() {
    }

    static String of(String reason) {
        String s = ANSWERED.matcher(reason).replaceAll("$1$2");
        s = URL.matcher(s).replaceAll("(an endpoint)");
        s = ARN.matcher(s).replaceAll("arn:$1:…");
        return ACCOUNT.matcher(s).replaceAll("…");
    }
}
