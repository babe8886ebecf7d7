package dev.ferry.domain.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.fields;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.methods;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaMethod;
import com.tngtech.archunit.core.domain.JavaParameter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import java.util.Optional;

/** The rules that keep the core pure. Never weaken one to make a build pass. */
@AnalyzeClasses(packages = "dev.ferry.domain", importOptions = ImportOption.DoNotIncludeTests.class)
class DomainArchitectureTest {

    @ArchTest
    static final ArchRule domainDependsOnlyOnTheJdkAndJakartaInject = classes()
            .that().resideInAPackage("dev.ferry.domain..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "jakarta.inject..", "dev.ferry.domain..")
            .because("the domain is the pure core every adapter points into: no Jackson, AWS, Kafka or logging framework");

    @ArchTest
    static final ArchRule noOptionalFields = fields()
            .should().notHaveRawType(Optional.class)
            .because("Optional is for return values only (as in the AWS SDK v2)");

    @ArchTest
    static final ArchRule noOptionalParameters = methods()
            .should(new ArchCondition<JavaMethod>("not take an Optional parameter") {
                @Override
                public void check(JavaMethod method, ConditionEvents events) {
                    for (JavaParameter p : method.getParameters()) {
                        if (p.getRawType().isEquivalentTo(Optional.class)) {
                            events.add(SimpleConditionEvent.violated(method, method.getFullName() + " takes an Optional"));
                        }
                    }
                }
            })
            .because("Optional is for return values only; a parameter is either required or overloaded away");

    private static final DescribedPredicate<JavaClass> PORTS = DescribedPredicate.describe("a port",
            c -> c.isInterface() && c.getPackageName().startsWith("dev.ferry.domain")
                    && !c.getPackageName().contains("listener") && !c.getPackageName().contains("routing")
                    && c.getEnclosingClass().isEmpty());

    @ArchTest
    static final ArchRule portMethodsDeclareNoCheckedExceptions = methods()
            .that().areDeclaredInClassesThat(PORTS)
            .should(new ArchCondition<JavaMethod>("declare no checked exception") {
                @Override
                public void check(JavaMethod method, ConditionEvents events) {
                    for (var thrown : method.getThrowsClause().getTypes()) {
                        var raw = thrown.toErasure();
                        boolean unchecked = raw.isAssignableTo(RuntimeException.class) || raw.isAssignableTo(Error.class);
                        if (!unchecked) {
                            events.add(SimpleConditionEvent.violated(method,
                                    method.getFullName() + " declares checked " + raw.getName()));
                        }
                    }
                }
            })
            .because("technical failures are unchecked FerryExceptions; decisions are Outcome/Disposition values");

    @ArchTest
    static final ArchRule domainExceptionsExtendFerryException = classes()
            .that().resideInAPackage("dev.ferry.domain..").and().areAssignableTo(RuntimeException.class)
            .should().beAssignableTo(dev.ferry.domain.model.FerryException.class)
            .because("Ferry's technical failures share one root with retryable()");

    @ArchTest
    static final ArchRule noDaggerAnnotationsInTheDomain = noClasses()
            .that().resideInAPackage("dev.ferry.domain..")
            .should().dependOnClassesThat().resideInAPackage("dagger..")
            .because("app builds domain services in @Provides methods; the domain carries no wiring");
}
