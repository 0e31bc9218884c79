/*
 * role.h - who may do what: the roles of accounts, in rising order of
 * rights (the router compares them, the auth module stores them).
 */
#ifndef EM_CORE_ROLE_H
#define EM_CORE_ROLE_H

enum em_role {
	EM_ROLE_PUBLIC = 0,  /* anyone, no token needed */
	EM_ROLE_CUSTOMER,    /* any signed-in account */
	EM_ROLE_STAFF,
	EM_ROLE_ADMIN,
};

#endif
