package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/** What a team adopting Ferry relies on: a licence, a BOM that lists every published module, stable module names. */
class PublishedArtifactsIT {

    private static final Path ROOT = Path.of("..");

    @Test
    void theLicence_isApache2_andEveryPomSaysSo() throws Exception {
        assertThat(Files.readString(ROOT.resolve("LICENSE"))).contains("Apache License").contains("Version 2.0, January 2004");
        assertThat(Files.readString(ROOT.resolve("NOTICE"))).startsWith("Ferry");
        var parent = pom(ROOT.resolve("pom.xml"));
        assertThat(text(parent, "licenses")).contains("Apache License, Version 2.0");
        assertThat(text(parent, "scm")).contains("https://");
        assertThat(text(parent, "developers")).isNotBlank();
        assertThat(text(pom(ROOT.resolve("bom/pom.xml")), "licenses")).contains("Apache License, Version 2.0");
    }

    @Test
    void theBom_listsEveryPublishedModule_atTheProjectsVersion_andPinsNothingElse() throws Exception {
        var parent = pom(ROOT.resolve("pom.xml"));
        String version = child(parent.getDocumentElement(), "version");
        var bom = pom(ROOT.resolve("bom/pom.xml"));
        assertThat(child(bom.getDocumentElement(), "version")).isEqualTo(version);
        assertThat(bom.getElementsByTagName("parent").getLength()).as("no parent: third-party versions stay out").isZero();
        var listed = new ArrayList<String>();
        var deps = bom.getElementsByTagName("dependency");
        for (int i = 0; i < deps.getLength(); i++) {
            var d = (Element) deps.item(i);
            assertThat(child(d, "groupId")).isEqualTo("dev.ferry");
            assertThat(child(d, "version")).isEqualTo(version);
            listed.add(child(d, "artifactId"));
        }
        var published = new ArrayList<String>();
        var modules = parent.getElementsByTagName("modules").item(0).getChildNodes();
        for (int i = 0; i < modules.getLength(); i++) {
            if (modules.item(i) instanceof Element m && !m.getTextContent().equals("bom")) {
                var module = pom(ROOT.resolve(m.getTextContent()).resolve("pom.xml"));
                if (!Files.readString(ROOT.resolve(m.getTextContent()).resolve("pom.xml")).contains("<maven.deploy.skip>true")) {
                    published.add(child(module.getDocumentElement(), "artifactId"));
                }
            }
        }
        assertThat(listed).containsExactlyInAnyOrderElementsOf(published);
    }

    @Test
    void everyJar_namesItsModule() throws Exception {
        var name = Pattern.compile("[a-z]+(\\.[a-z]+)*");
        var artifacts = new java.util.LinkedHashMap<String, String>();
        for (String module : List.of("domain", "codecs", "adapters-sqs", "adapters-http", "adapters-kafka", "adapters-mvstore",
                "adapters-dynamodb", "micrometer")) {
            artifacts.put(module, "ferry-" + module);
        }
        artifacts.put("test-kit", "ferry-test");
        for (var entry : artifacts.entrySet()) {
            String module = entry.getKey();
            try (var jars = Files.list(ROOT.resolve(module).resolve("target"))) {
                String version = child(pom(ROOT.resolve("pom.xml")).getDocumentElement(), "version");
                var jar = jars.filter(p -> p.getFileName().toString().equals(entry.getValue() + "-" + version + ".jar"))
                        .findFirst();
                assertThat(jar).as(module + " is packaged before the app's tests run").isPresent();
                try (var file = new JarFile(jar.get().toFile())) {
                    String automatic = file.getManifest().getMainAttributes().getValue("Automatic-Module-Name");
                    assertThat(automatic).as(module).isNotNull().matches(name).startsWith("dev.ferry.");
                }
            }
        }
    }

    @Test
    void theEnginesJar_holdsNoTestDouble_theTestKitHoldsTheInMemoryQueueAndTheContracts() throws Exception {
        String version = child(pom(ROOT.resolve("pom.xml")).getDocumentElement(), "version");
        try (var domain = new JarFile(ROOT.resolve("domain/target/ferry-domain-" + version + ".jar").toFile());
             var kit = new JarFile(ROOT.resolve("test-kit/target/ferry-test-" + version + ".jar").toFile())) {
            assertThat(domain.stream().map(e -> e.getName()).filter(n -> n.endsWith(".class")))
                    .isNotEmpty()
                    .noneMatch(n -> n.startsWith("dev/ferry/domain/memory/") || n.startsWith("dev/ferry/domain/contract/"));
            assertThat(kit.getEntry("dev/ferry/domain/memory/InMemoryQueue.class")).isNotNull();
            assertThat(kit.getEntry("dev/ferry/domain/contract/QueueContract.class")).isNotNull();
            assertThat(kit.getEntry("dev/ferry/test/HandlerHarness.class")).isNotNull();
        }
    }

    private static Document pom(Path file) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
    }

    private static String text(Document pom, String tag) {
        var nodes = pom.getElementsByTagName(tag);
        return nodes.getLength() == 0 ? "" : nodes.item(0).getTextContent();
    }

    private static String child(Element parent, String tag) {
        for (var n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(tag)) {
                return e.getTextContent().trim();
            }
        }
        return null;
    }
}
