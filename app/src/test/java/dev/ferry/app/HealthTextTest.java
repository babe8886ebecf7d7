package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A problem as the open health endpoints show it: the service's words, without its credentials. */
class HealthTextTest {

    @Test // left by the thirty-seventh round: SQS's SignatureDoesNotMatch quotes the canonical request, session token
          // and all
    void aSigningErrorsSessionToken_isTakenOut_itsWordsKept() {
        String token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDx+Zk=";
        String answer = "The request signature we calculated does not match the signature you provided. Check your "
                + "AWS Secret Access Key and signing method.\n\nThe Canonical String for this request should have been\n"
                + "'POST\n/\n\ncontent-type:application/x-amz-json-1.0\nhost:sqs.eu-west-1.amazonaws.com\n"
                + "x-amz-date:20261206T112100Z\n"
                + "x-amz-security-token:" + token + "\n\ncontent-type;host;x-amz-date;x-amz-security-token\n"
                + "5f1b0c2d'\n(Service: Sqs, Status Code: 403, Request ID: 7a1c)";
        assertThat(HealthText.brief(answer)).doesNotContain(token).doesNotContain("IQoJb3JpZ2luX2Vj")
                .contains("x-amz-security-token:…\n").contains("host:sqs.eu-west-1.amazonaws.com")
                .contains("content-type;host;x-amz-date;x-amz-security-token\n").contains("Status Code: 403");
    }

    @Test
    void accessKeyIds_credentialScopes_andAuthorizationHeaders_areTakenOut() {
        String problem = "Error parsing the X-Amz-Credential parameter; "
                + "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE/20261206/"
                + "eu-west-1/sqs/aws4_request; the key ASIAY34FZKBOKMUTVV7A is not valid; proxy answered 'Authorization: "
                + "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/x, SignedHeaders=host, Signature=fe5f80f77d5fa3be' "
                + "and 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo'";
        String brief = HealthText.brief(problem);
        assertThat(brief).doesNotContain("AKIAIOSFODNN7EXAMPLE").doesNotContain("ASIAY34FZKBOKMUTVV7A")
                .doesNotContain("fe5f80f77d5fa3be").doesNotContain("eyJhbGciOiJIUzI1NiJ9")
                .contains("Error parsing the X-Amz-Credential parameter;").contains("X-Amz-Credential=…;")
                .contains("is not valid").contains("'Authorization: …'");
    }

    @Test // a review: JSON and a Java map's print kept the token, and the rest of the line (the status code) went too
    void authorizationAsJsonOrAMapPrintsIt_isTakenOut_theRestOfTheLineKept() {
        assertThat(HealthText.brief("{\"Authorization\":\"Bearer eyJabc.def\",\"x-amz-security-token\":\"IQoJtok\"}"))
                .doesNotContain("eyJabc").doesNotContain("IQoJtok").contains("\"Authorization\":\"…\"");
        assertThat(HealthText.brief("headers {Authorization=[Token ghp_secret1], Accept=[*/*]}"))
                .doesNotContain("ghp_secret1").contains("Accept=[*/*]");
        assertThat(HealthText.brief("{'Authorization': 'Splunk 8a1f-hec', 'X': 1} and Authorization: SSWS 00abc"))
                .as("other schemes, a Python dict (a last look)").doesNotContain("8a1f-hec").doesNotContain("00abc");
        assertThat(HealthText.brief("authorization: Bearer xyz (Service: Sqs, Status Code: 403)"))
                .doesNotContain("xyz").contains("Status Code: 403");
        assertThat(HealthText.brief("Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/x, "
                + "SignedHeaders=host, Signature=fe5f80f77d5fa3be (Status Code: 403)"))
                .doesNotContain("fe5f80f77d5fa3be").doesNotContain("AKIAIOSFODNN7EXAMPLE").contains("Status Code: 403");
    }

    @Test
    void wordsThatOnlyLookLikeCredentials_areKept() {
        String problem = "User is not authorized to perform sqs:ReceiveMessage (authorization failed); "
                + "queue AKIAORDERS is small; header x-amz-security-token missing";
        assertThat(HealthText.brief(problem)).isEqualTo(problem);
    }
}
