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
    }

    @Test
    void aCycloneDxSbom_listsWhatTheAppBundles() throws Exception {
        String sbom = Files.readString(Path.of("target/sbom.json"));
        assertThat(sbom).contains("\"bomFormat\" : \"CycloneDX\"").contains("\"name\" : \"logback-classic\"")
                .contains("\"name\" : \"sqs\"").contains("\"name\" : \"ferry-domain\"")
                .doesNotContain("\"name\" : \"junit-jupiter-api\"");
    }
}
