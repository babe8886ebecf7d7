package dev.ferry.adapters.http;

import java.io.IOException;

/** A request refused or answered without being handled: the server closes its connection, unread. */
final class AbandonedRequest extends IOException {

    private static final long serialVersionUID = 1L;

    AbandonedRequest(String message) {
        super(message);
    }
}
