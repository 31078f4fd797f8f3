package dev.metaflow.kestra.server.api;

import com.sun.net.httpserver.Headers;

/**
 * Refuses what another site's page makes a browser send. A browser that holds the user's
 * credentials for this server (a basic-auth prompt it answered) sends them with a form post or
 * a fetch from any page; it also says where the request comes from: {@code Sec-Fetch-Site}
 * (every current browser) and {@code Origin} (cross-origin requests and every POST). Only a
 * same-origin request, one the user typed, or a plain link to the UI's page passes. Clients
 * that are not browsers (the Python side, Kestra's SDK, curl) send neither header.
 */
final class CrossSite {
    private CrossSite() {
    }

    /** Why the request is refused, or null when it may go on. */
    static String refusal(Headers headers, String method, String rawPath) {
        String site = headers.getFirst("Sec-Fetch-Site");
        boolean link = (method.equals("GET") || method.equals("HEAD"))
            && "navigate".equals(headers.getFirst("Sec-Fetch-Mode")) && UiFiles.isUiPath(rawPath);
        if (site != null && !site.equals("same-origin") && !site.equals("none") && !link) {
            return "a request from another site's page (Sec-Fetch-Site: " + site + ")";
        }
        String origin = headers.getFirst("Origin");
        String host = headers.getFirst("Host");
        if (origin != null && !link && !origin.equalsIgnoreCase("http://" + host)) {
            return "a request from the page of origin '" + origin + "'";
        }
        return null;
    }
}
