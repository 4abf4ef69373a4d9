package io.trellis.metadata;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.Set;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** Row of {@code principals}; {@code roles} holds {@link PrincipalRole#dbValue()}s. */
@Entity(name = "PrincipalRow")
@Table(name = "principals")
class PrincipalRow {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;

    @Column(nullable = false)
    String name;

    @JdbcTypeCode(SqlTypes.ARRAY)
    @Column(nullable = false)
    String[] roles;

    @Column(name = "created_at", nullable = false)
    Instant createdAt;

    @Column(name = "updated_at", nullable = false)
    Instant updatedAt;

    protected PrincipalRow() {
    }

    PrincipalRow(String name, Instant now) {
        this.name = name;
        this.roles = new String[0];
        this.createdAt = now;
        this.updatedAt = now;
    }

    Set<PrincipalRole> roleSet() {
        EnumSet<PrincipalRole> set = EnumSet.noneOf(PrincipalRole.class);
        Arrays.stream(roles).map(PrincipalRole::fromDb).forEach(set::add);
        return set;
    }

    /** Replaces the roles; a new array so that Hibernate sees the change. */
    void setRoles(Set<PrincipalRole> newRoles) {
        EnumSet<PrincipalRole> ordered = newRoles.isEmpty() ? EnumSet.noneOf(PrincipalRole.class) : EnumSet.copyOf(newRoles);
        this.roles = ordered.stream().map(PrincipalRole::dbValue).toArray(String[]::new);
    }

    PrincipalRecord toRecord() {
        return new PrincipalRecord(id, name, Collections.unmodifiableSet(new LinkedHashSet<>(roleSet())), createdAt, updatedAt);
    }
}
