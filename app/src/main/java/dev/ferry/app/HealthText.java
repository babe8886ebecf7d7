package dev.ferry.app;

import java.util.regex.Pattern;

/**
 * A problem as the health endpoints show it to anyone who reaches them: its words, without what names an account, a
 * principal or a secret. A ledger's or a queue's failure quotes the service ("User: arn:aws:sts::123456789012:
 * assumed-role/ferry/i-0abc is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:...:table/x");
 * the console and the log, which are not open to all, keep it whole.
 */
final class HealthText {

    /** An Amazon Resource Name: its partition kept, the rest (region, account, resource) not. */
    private static final Pattern ARN = Pattern.compile("\\barn:(aws[a-z-]*):[^\\s,;'\"()\\[\\]{}<>]*");
    /** An AWS account id, alone or in a queue URL's path. */
    private static final Pattern ACCOUNT = Pattern.compile("(?<![0-9A-Za-z])[0-9]{12}(?![0-9A-Za-z])");
    /** A URL's user and password. */
    private static final Pattern USERINFO = Pattern.compile("(://)[^/?#\\s@]*@");
    /** A URL's query, which may carry a signature or a token. */
    private static final Pattern QUERY = Pattern.compile("(://[^\\s?#]{1,2048})\\?[^\\s\"']*");

    /**
     * A credential a signing error quotes: SQS's {@code SignatureDoesNotMatch} spells out the canonical request with
     * its {@code x-amz-security-token} (a session token); a presigned request's {@code X-Amz-Credential} names the key.
     */
    private static final Pattern SIGNED_HEADER = Pattern.compile(
            "(?i)(x-amz-security-token|x-amz-credential)(\"? *[:=] *\"?\\[?)[^\\s'\"&,;\\]]+");
    /**
     * An {@code Authorization} header's value, quoted by a service or a proxy, as a header line, in JSON or as a Java
     * map or a Python dict prints it: a scheme's one token (Bearer, Splunk, SSWS, ...), a bare token, or SigV4's
     * parameters — not the rest of the line.
     */
    private static final Pattern AUTHORIZATION = Pattern.compile("(?i)(authorization['\"]? *[:=] *['\"]?\\[?)(?:"
            + "AWS4-HMAC-SHA256(?:[ ,]+[A-Za-z]+=[^\\s,'\"\\]]+)+|[A-Za-z][\\w-]* +[^\\s'\"\\],;]+|[^\\s'\"\\],;]+)");
    /** An access key id (AKIA…, ASIA… for session keys) or a principal's unique id (AROA…, AIDA…). */
    private static final Pattern KEY_ID =
            Pattern.compile("(?<![A-Z0-9])(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16}(?![A-Z0-9])");

    private HealthText() {
    }

    static String brief(String problem) {
        if (problem == null) {
            return null;
        }
        String s = ARN.matcher(problem).replaceAll("arn:$1:…");
        s = SIGNED_HEADER.matcher(s).replaceAll("$1$2…");
        s = AUTHORIZATION.matcher(s).replaceAll("$1…");
        s = KEY_ID.matcher(s).replaceAll("…");
        s = USERINFO.matcher(s).replaceAll("$1…@");
        s = QUERY.matcher(s).replaceAll("$1?…");
        return ACCOUNT.matcher(s).replaceAll("…");
    }
}
