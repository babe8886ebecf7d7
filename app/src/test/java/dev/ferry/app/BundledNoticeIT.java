package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Properties;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/** The packaged jar carries the licence, and NOTICE names every component it bundles (scripts/notice.py writes it). */
class BundledNoticeIT {

    @Test
    void notice_namesEveryBundledComponent_andTheJarCarriesLicenceAndNotice() throws Exception {
        String notice = Files.readString(Path.of("../NOTICE"));
        var missing = new ArrayList<String>();
        try (var jar = new ZipFile(FerryProcess.JAR.toFile())) {
            assertThat(jar.getEntry("META-INF/LICENSE")).isNotNull();
            assertThat(new String(jar.getInputStream(jar.getEntry("META-INF/LICENSE")).readAllBytes(), StandardCharsets.UTF_8))
                    .contains("Apache License");
            assertThat(new String(jar.getInputStream(jar.getEntry("META-INF/NOTICE")).readAllBytes(), StandardCharsets.UTF_8))
                    .as("ours, which aggregates the bundled ones").startsWith("Ferry\n");
            var entries = jar.entries();
            while (entries.hasMoreElements()) {
                var e = entries.nextElement();
                if (e.getName().startsWith("META-INF/maven/") && e.getName().endsWith("/pom.properties")) {
                    var p = new Properties();
                    p.load(jar.getInputStream(e));
                    String id = p.getProperty("groupId") + ":" + p.getProperty("artifactId") + ":";
                    if (!id.startsWith("dev.ferry:") && !notice.contains("- " + id)) {
                        missing.add(id + p.getProperty("version"));
                    }
                }
            }
        }
        assertThat(missing).as("bundled but not in NOTICE; regenerate it with scripts/notice.py").isEmpty();
        // every component the SBOM lists (all of them, not only jars that carry a pom.properties), at its version
        String sbom = Files.readString(Path.of("target/sbom.json"));
        var purl = java.util.regex.Pattern.compile("\"purl\" : \"pkg:maven/([^/]+)/([^@]+)@([^?\"]+)");
        var m = purl.matcher(sbom);
        var unlisted = new ArrayList<String>();
        int components = 0;
        while (m.find()) {
            if (m.group(1).equals("dev.ferry")) {
                continue;
            }
            components++;
            String id = m.group(1) + ":" + m.group(2) + ":" + m.group(3);
            if (!notice.contains("- " + id + " ")) {
                unlisted.add(id);
            }
        }
        assertThat(components).as("components in the SBOM").isGreaterThan(50);
        assertThat(unlisted).as("in the SBOM but not in NOTICE at that version; regenerate it with scripts/notice.py").isEmpty();
    }

    @Test
    void aCycloneDxSbom_listsWhatTheAppBundles() throws Exception {
        String sbom = Files.readString(Path.of("target/sbom.json"));
        assertThat(sbom).contains("\"bomFormat\" : \"CycloneDX\"").contains("\"name\" : \"logback-classic\"")
                .contains("\"name\" : \"sqs\"").contains("\"name\" : \"ferry-domain\"")
                .doesNotContain("\"name\" : \"junit-jupiter-api\"");
    }
}
